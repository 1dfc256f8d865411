using System.Text;

namespace ImagePromotion.Ci;

/// <summary>
/// Untrusted text inside Markdown that people read before they approve (step summaries, pull request bodies): it must
/// stay text. Line breaks become spaces (a value cannot start a heading, a list or a new table row), every character
/// that GitHub Flavored Markdown gives a meaning inline is backslash-escaped (links, images, emphasis, HTML, tables),
/// and code spans never end early.
/// </summary>
public static class MarkdownText
{
    // GFM backslash escapes work for any ASCII punctuation (spec 0.29-gfm, "Backslash escapes"); these are the ones that
    // start links and images, emphasis, code, raw HTML and autolinks, table cells, strikethrough and entity references.
    private const string Special = "\\`*_{}[]()<>!|~&#";

    /// <summary>Inline text: one line, every special character escaped.</summary>
    public static string Escape(string? text)
    {
        var line = OneLine(text);
        var sb = new StringBuilder(line.Length + 8);
        foreach (var c in line)
        {
            if (Special.Contains(c)) sb.Append('\\');
            sb.Append(c);
        }
        // A leading "-", "+", "=" or "1." could still make a list or heading when the text starts a line.
        if (sb.Length > 0 && sb[0] is '-' or '+' or '=') sb.Insert(0, '\\');
        return sb.ToString();
    }

    /// <summary>A code span that holds the text verbatim: the fence is one backtick longer than any run inside (GFM "Code spans").</summary>
    public static string Code(string? text)
    {
        var line = OneLine(text);
        if (line.Length == 0) return "";
        var longest = 0;
        for (int i = 0, run = 0; i < line.Length; i++) longest = Math.Max(longest, run = line[i] == '`' ? run + 1 : 0);
        var fence = new string('`', longest + 1);
        var pad = line.StartsWith('`') || line.EndsWith('`') ? " " : "";
        // Inside a table a pipe still ends the cell, even in a code span.
        return fence + pad + line.Replace("|", "\\|", StringComparison.Ordinal) + pad + fence;
    }

    /// <summary>A link destination: only http(s) URLs, with the characters that would end it percent-encoded; anything else is no link.</summary>
    public static string? Url(string? url)
    {
        var line = OneLine(url).Trim();
        if (!Uri.TryCreate(line, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")) return null;
        return uri.AbsoluteUri.Replace("(", "%28").Replace(")", "%29").Replace(" ", "%20").Replace("<", "%3C").Replace(">", "%3E").Replace("|", "%7C");
    }

    /// <summary>A link whose text is the escaped URL, or the escaped text alone when it is not an http(s) URL.</summary>
    public static string Link(string? url) => Url(url) is { } safe ? $"[{Escape(url)}]({safe})" : Escape(url);

    private static string OneLine(string? text) =>
        (text ?? "").Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ').Replace('\u2028', ' ').Replace('\u2029', ' ').Trim();
}
