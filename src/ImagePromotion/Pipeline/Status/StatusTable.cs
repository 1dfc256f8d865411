using ImagePromotion.Logging;

namespace ImagePromotion.Pipeline.Status;

/// <summary>
/// The status table as text. It fits <see cref="Width"/> columns: digests shortened to 12 hex digits (as <c>git</c>
/// shortens commits), the application and image columns only when they vary, and a reference longer than the room
/// left elided in the middle (registry and tag kept). <c>wide</c> prints every value whole. Every value is passed
/// through <see cref="LogText.Inline"/>: a tag or a registry's reason cannot break a line or start a CI command.
/// </summary>
public static class StatusTable
{
    /// <summary>The widest line of the table outside wide mode.</summary>
    public const int Width = 100;

    private const string Gap = "  ";

    /// <param name="rows">What <see cref="PromotionPipeline.StatusAsync"/> read.</param>
    /// <param name="wide">Full digests and references, however wide (<c>--wide</c> or <c>--verbosity=diagnostic</c>).</param>
    public static IReadOnlyList<string> Format(IReadOnlyList<StatusRow> rows, bool wide = false)
    {
        var applications = rows.Select(r => r.Application).Distinct().Count() > 1;
        var images = applications || rows.GroupBy(r => r.Application).Any(g => g.Select(r => r.Image).Distinct().Count() > 1);
        var columns = new List<(string Name, Func<StatusRow, string> Value)>();
        if (applications) columns.Add(("application", r => r.Application));
        columns.Add(("environment", r => r.Environment));
        if (images) columns.Add(("image", r => r.Image));
        columns.Add(("reference", r => r.Reference));
        columns.Add(("digest", r => State(r, wide)));

        var cells = rows.Select(r => columns.Select(c => LogText.Inline(c.Value(r))).ToArray()).ToList();
        var widths = columns.Select((c, i) => Math.Max(c.Name.Length, cells.Select(v => v[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var reference = columns.FindIndex(c => c.Name == "reference");
        if (!wide)
        {
            // The reference column gets what the others leave of the line.
            var room = Width - widths.Where((_, i) => i != reference).Sum() - Gap.Length * (columns.Count - 1);
            if (widths[reference] > room)
            {
                widths[reference] = Math.Max(room, "reference".Length);
                foreach (var row in cells) row[reference] = Elide(row[reference], widths[reference]);
            }
        }

        var lines = new List<string>
        {
            Line(columns.Select(c => c.Name).ToArray(), widths),
            Line(widths.Select(w => new string('-', w)).ToArray(), widths),
        };
        lines.AddRange(cells.Select(c => Line(c, widths)));
        if (rows.Count > 0 && rows.All(r => r.Digest is not null))
            foreach (var group in rows.GroupBy(r => (r.Application, r.Image)))
            {
                var digests = group.Select(r => r.Digest).Distinct().Count();
                var who = images ? $"{group.Key.Application}/{group.Key.Image}: " : "";
                lines.Add(who + (digests == 1 ? "one digest in every environment" : $"{digests} different digests across environments"));
            }
        return lines;
    }

    /// <summary><c>sha256:</c> and the first 12 hex digits: unambiguous among a repository's digests, and what a reader compares by eye.</summary>
    public static string ShortDigest(string digest)
    {
        var colon = digest.IndexOf(':');
        return colon > 0 && digest.Length > colon + 13 ? digest[..(colon + 13)] : digest;
    }

    private static string State(StatusRow row, bool wide) =>
        row.Problem ?? (row.Digest is { } d ? (wide ? d : ShortDigest(d)) : "(absent)");

    private static string Line(string[] values, int[] widths) =>
        string.Join(Gap, values.Select((v, i) => i == values.Length - 1 ? v : v.PadRight(widths[i]))).TrimEnd();

    /// <summary>Shortens a reference to <paramref name="width"/> characters: the registry and the end (repository's last part and tag) stay.</summary>
    internal static string Elide(string value, int width)
    {
        if (value.Length <= width) return value;
        var slash = value.IndexOf('/');
        var head = slash >= 0 && slash + 1 <= (width - 1) / 2 ? slash + 1 : (width - 1) / 2;
        return value[..head] + "…" + value[^(width - 1 - head)..];
    }
}
