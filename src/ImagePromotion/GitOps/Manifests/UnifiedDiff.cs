using System.Text;
using DiffPlex;
using DiffPlex.Chunkers;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// A line-based unified diff (as <c>diff -u</c> / <c>git diff</c> print it) for showing a manifest change
/// in logs and pull requests. DiffPlex finds the changed lines; this class only lays them out as hunks.
/// (DiffPlex's own UnidiffRenderer counts the text after a final newline as an extra empty line and does not
/// mark a missing final newline, so its output is not what git prints.)
/// </summary>
public static class UnifiedDiff
{
    private enum Op { Equal, Delete, Insert }

    /// <summary>The diff from <paramref name="oldText"/> to <paramref name="newText"/> as <c>git diff</c> prints it: <c>---</c>/<c>+++</c> headers with the labels, <c>@@</c> hunks, and <c>\ No newline at end of file</c> where one side lacks it. Empty when the texts are equal.</summary>
    /// <param name="oldText">The file before.</param>
    /// <param name="newText">The file after.</param>
    /// <param name="oldLabel">Label of the <c>---</c> line (<c>a/deploy/app.yaml</c>).</param>
    /// <param name="newLabel">Label of the <c>+++</c> line (<c>b/deploy/app.yaml</c>).</param>
    /// <param name="context">Unchanged lines shown around each change (3, as git).</param>
    public static string Create(string oldText, string newText, string oldLabel, string newLabel, int context = 3)
    {
        // Lines keep their terminators, so a missing final newline counts as a difference.
        var diff = Differ.Instance.CreateDiffs(oldText, newText, ignoreWhiteSpace: false, ignoreCase: false, LineEndingsPreservingChunker.Instance);
        var (a, b) = (diff.PiecesOld, diff.PiecesNew);
        var script = Script(diff, a.Count);
        if (script.All(s => s.Op == Op.Equal)) return "";

        var sb = new StringBuilder();
        sb.Append("--- ").Append(oldLabel).Append('\n').Append("+++ ").Append(newLabel).Append('\n');
        var changed = script.Select((s, i) => (s, i)).Where(x => x.s.Op != Op.Equal).Select(x => x.i).ToList();
        var c = 0;
        while (c < changed.Count)
        {
            var first = changed[c];
            var last = first;
            while (c + 1 < changed.Count && changed[c + 1] - last <= 2 * context) last = changed[++c];
            c++;
            var from = Math.Max(0, first - context);
            var to = Math.Min(script.Count - 1, last + context);
            var hunk = script.GetRange(from, to - from + 1);
            var oldCount = hunk.Count(s => s.Op != Op.Insert);
            var newCount = hunk.Count(s => s.Op != Op.Delete);
            var oldStart = hunk.Select(s => s.A).FirstOrDefault(x => x >= 0, -1);
            var newStart = hunk.Select(s => s.B).FirstOrDefault(x => x >= 0, -1);
            sb.Append("@@ -").Append(Range(oldStart, oldCount, script, from, true))
              .Append(" +").Append(Range(newStart, newCount, script, from, false)).Append(" @@\n");
            foreach (var step in hunk)
            {
                var (mark, line) = step.Op switch
                {
                    Op.Equal => (' ', a[step.A]),
                    Op.Delete => ('-', a[step.A]),
                    _ => ('+', b[step.B]),
                };
                sb.Append(mark).Append(line.TrimEnd('\n').TrimEnd('\r')).Append('\n');
                if (!line.EndsWith('\n')) sb.Append("\\ No newline at end of file\n");
            }
        }
        return sb.ToString();
    }

    private static string Range(int start, int count, List<(Op Op, int A, int B)> script, int from, bool old)
    {
        // An empty side names the line before it, as diff does.
        if (count == 0)
        {
            var before = 0;
            for (var i = from - 1; i >= 0; i--)
            {
                var idx = old ? script[i].A : script[i].B;
                if (idx >= 0) { before = idx + 1; break; }
            }
            return before + ",0";
        }
        return count == 1 ? (start + 1).ToString() : $"{start + 1},{count}";
    }

    private static List<(Op Op, int A, int B)> Script(DiffPlex.Model.DiffResult diff, int oldCount)
    {
        var script = new List<(Op, int, int)>();
        int i = 0, j = 0;
        foreach (var block in diff.DiffBlocks)
        {
            while (i < block.DeleteStartA) script.Add((Op.Equal, i++, j++));
            for (var d = 0; d < block.DeleteCountA; d++) script.Add((Op.Delete, i++, -1));
            for (var n = 0; n < block.InsertCountB; n++) script.Add((Op.Insert, -1, j++));
        }
        while (i < oldCount) script.Add((Op.Equal, i++, j++));
        return script;
    }
}
