namespace ImagePromotion.CommandLine;

/// <summary>
/// "Did you mean …?" for targets and arguments: the candidate nearest to what was typed, by edit distance
/// (insertions, deletions, substitutions and swaps of neighbours, case ignored), or none when nothing is near.
/// </summary>
public static class Suggestions
{
    /// <summary>
    /// The candidate closest to <paramref name="typed"/>, or null when the nearest is more than a third of the
    /// typed length away (one edit is always allowed): a suggestion that is not near only misleads.
    /// A candidate that starts with what was typed counts as one edit away.
    /// </summary>
    public static string? ClosestMatch(string typed, IEnumerable<string> candidates)
    {
        var t = typed.ToLowerInvariant();
        string? best = null;
        (int Near, int Edits) bestScore = (int.MaxValue, int.MaxValue);
        foreach (var candidate in candidates.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var c = candidate.ToLowerInvariant();
            var edits = Distance(t, c);
            // "PromoteProd" is 6 edits from PromoteProduction, but a typed prefix says what was meant.
            var score = (Near: t.Length >= 4 && c.StartsWith(t, StringComparison.Ordinal) ? Math.Min(edits, 1) : edits, Edits: edits);
            if (score.CompareTo(bestScore) < 0)
            {
                best = candidate;
                bestScore = score;
            }
        }
        var bestDistance = bestScore.Near;
        return best is not null && bestDistance <= Math.Max(1, t.Length / 3) ? best : null;
    }

    /// <summary>Optimal string alignment distance (Levenshtein with adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    /// <summary>" (did you mean X?)" or "" : the tail the messages about unknown names share.</summary>
    public static string DidYouMean(string typed, IEnumerable<string> candidates, string prefix = "") =>
        ClosestMatch(typed, candidates) is { } match ? $": did you mean {prefix}{match}?" : "";
}
