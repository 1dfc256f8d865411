using System.Text;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>Replace the characters [Start, End) of the original text with <see cref="Text"/>.</summary>
internal sealed record TextEdit(int Start, int End, string Text)
{
    /// <summary>Applies non-overlapping edits; insertions at one offset keep the order they were given in.</summary>
    public static string Apply(string text, IEnumerable<TextEdit> edits)
    {
        var ordered = edits.Select((e, i) => (e, i)).OrderBy(x => x.e.Start).ThenBy(x => x.i).Select(x => x.e).ToList();
        var sb = new StringBuilder(text.Length + 256);
        var at = 0;
        foreach (var edit in ordered)
        {
            if (edit.Start < at) throw new InvalidOperationException($"overlapping edits at offset {edit.Start}");
            sb.Append(text, at, edit.Start - at).Append(edit.Text);
            at = edit.End;
        }
        return sb.Append(text, at, text.Length - at).ToString();
    }

    /// <summary>The line break the file already uses (CRLF or LF).</summary>
    public static string NewlineOf(string text)
    {
        var lf = text.IndexOf('\n');
        return lf > 0 && text[lf - 1] == '\r' ? "\r\n" : "\n";
    }

    /// <summary>
    /// Where new lines go after the node ending at <paramref name="contentEnd"/>: the start of the next line
    /// (so a trailing comment stays on its line). Returns a line break to put first when the file ends without one.
    /// </summary>
    public static (int Offset, string Prefix) AfterLine(string text, int contentEnd, string newline)
    {
        if (contentEnd > 0 && text[contentEnd - 1] == '\n') return (contentEnd, "");
        var lf = text.IndexOf('\n', contentEnd);
        return lf < 0 ? (text.Length, newline) : (lf + 1, "");
    }
}
