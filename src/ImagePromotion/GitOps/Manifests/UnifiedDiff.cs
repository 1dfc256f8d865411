using System.Text;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// A line-based unified diff (as <c>diff -u</c> / <c>git diff</c> print it) for showing a manifest change
/// in logs and pull requests. Uses Myers' O(ND) algorithm between the common head and tail of the files.
/// </summary>
public static class UnifiedDiff
{
    private enum Op { Equal, Delete, Insert }

    public static string Create(string oldText, string newText, string oldLabel, string newLabel, int context = 3)
    {
        var a = Lines(oldText);
        var b = Lines(newText);
        var script = Script(a, b);
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

    /// <summary>Lines with their terminators, so a missing final newline counts as a difference.</summary>
    private static string[] Lines(string text)
    {
        var lines = new List<string>();
        var start = 0;
        while (start < text.Length)
        {
            var lf = text.IndexOf('\n', start);
            var end = lf < 0 ? text.Length : lf + 1;
            lines.Add(text[start..end]);
            start = end;
        }
        return lines.ToArray();
    }

    private static List<(Op Op, int A, int B)> Script(string[] a, string[] b)
    {
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head]) head++;
        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[a.Length - 1 - tail] == b[b.Length - 1 - tail]) tail++;
        var script = new List<(Op, int, int)>();
        for (var i = 0; i < head; i++) script.Add((Op.Equal, i, i));
        script.AddRange(Myers(a, b, head, a.Length - tail, head, b.Length - tail));
        for (var i = 0; i < tail; i++) script.Add((Op.Equal, a.Length - tail + i, b.Length - tail + i));
        return script;
    }

    private static List<(Op, int, int)> Myers(string[] a, string[] b, int a0, int a1, int b0, int b1)
    {
        int n = a1 - a0, m = b1 - b0, max = n + m, offset = max + 1;
        var result = new List<(Op, int, int)>();
        if (max == 0) return result;
        var v = new int[2 * max + 3];
        var trace = new List<int[]>();
        for (var d = 0; d <= max; d++)
        {
            // The trace grows by one array per edit step; past a sane size show the region as replaced.
            if ((long)d * v.Length > 20_000_000) return Replaced(a0, a1, b0, b1);
            trace.Add((int[])v.Clone());
            for (var k = -d; k <= d; k += 2)
            {
                var x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
                var y = x - k;
                while (x < n && y < m && a[a0 + x] == b[b0 + y]) { x++; y++; }
                v[offset + k] = x;
                if (x >= n && y >= m) return Backtrack(trace, d, k, n, m, offset, a0, b0, a, b);
            }
        }
        return result;
    }

    private static List<(Op, int, int)> Replaced(int a0, int a1, int b0, int b1)
    {
        var steps = new List<(Op, int, int)>();
        for (var i = a0; i < a1; i++) steps.Add((Op.Delete, i, -1));
        for (var j = b0; j < b1; j++) steps.Add((Op.Insert, -1, j));
        return steps;
    }

    private static List<(Op, int, int)> Backtrack(List<int[]> trace, int d, int k, int n, int m, int offset, int a0, int b0, string[] a, string[] b)
    {
        var steps = new List<(Op, int, int)>();
        int x = n, y = m;
        for (var depth = d; depth > 0; depth--)
        {
            var v = trace[depth];
            k = x - y;
            var down = k == -depth || (k != depth && v[offset + k - 1] < v[offset + k + 1]);
            var prevK = down ? k + 1 : k - 1;
            var prevX = v[offset + prevK];
            var prevY = prevX - prevK;
            while (x > prevX && y > prevY) { x--; y--; steps.Add((Op.Equal, a0 + x, b0 + y)); }
            if (down) { y--; steps.Add((Op.Insert, -1, b0 + y)); }
            else { x--; steps.Add((Op.Delete, a0 + x, -1)); }
        }
        while (x > 0 && y > 0) { x--; y--; steps.Add((Op.Equal, a0 + x, b0 + y)); }
        steps.Reverse();
        return steps;
    }
}
