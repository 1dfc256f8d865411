using System.Text;
using System.Text.RegularExpressions;

namespace ImagePromotion.Logging;

/// <summary>
/// Text from images, registries, evidence, Git or Port is untrusted: on a CI log it must never act. GitHub's runner
/// reads a workflow command from any output line that starts, after leading white space, with <c>::</c>
/// (actions/runner ActionCommand.TryParseV2), and a legacy command from <c>##[</c> anywhere in a line (TryParse, still
/// tried when the first fails); a line ends at CR, LF or CRLF (TextReader.ReadLine in ProcessInvoker). So a value must not
/// bring its own line break, and no line may start with <c>::</c> or hold <c>##[</c> unless our own command writer wrote it.
/// </summary>
public static partial class LogText
{
    /// <summary>What a line that would start a workflow command gets in front: visible, and not white space to the runner.</summary>
    public const string CommandGuard = "·";

    /// <summary>
    /// A value for one log line: every control character escaped (<c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\e</c>, else
    /// <c>\u00XX</c>), plus the Unicode line and paragraph separators, so it cannot end the line or start another.
    /// </summary>
    public static string Inline(string? value)
    {
        if (string.IsNullOrEmpty(value)) return value ?? "";
        StringBuilder? sb = null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var escape = c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\x1b' => "\\e",
                '\u2028' or '\u2029' or '\u0085' => $"\\u{(int)c:x4}",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => null,
            };
            if (escape is null) { sb?.Append(c); continue; }
            sb ??= new StringBuilder(value, 0, i, value.Length + 16);
            sb.Append(escape);
        }
        return sb?.ToString() ?? value;
    }

    /// <summary>A value in double quotes with <see cref="Inline"/>'s escapes and <c>\"</c>, <c>\\</c>: what a log line quotes.</summary>
    public static string Quote(string? value) => "\"" + Inline((value ?? "").Replace("\\", "\\\\").Replace("\"", "\\\"")) + "\"";

    /// <summary>Neutralises text for a CI log: each physical line (split as the runner splits) through <see cref="NeutraliseLine"/>.</summary>
    public static string Neutralise(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var sb = new StringBuilder(text.Length + 8);
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is not ('\r' or '\n')) continue;
            sb.Append(NeutraliseLine(text[start..i])).Append(text[i]);
            start = i + 1;
        }
        sb.Append(NeutraliseLine(text[start..]));
        return sb.ToString();
    }

    /// <summary>
    /// One physical line (no CR or LF in it): a line that would start a workflow command gets <see cref="CommandGuard"/>
    /// in front, and every <c>##[</c> becomes <c>## [</c>. Idempotent; a line that was safe is returned unchanged.
    /// </summary>
    public static string NeutraliseLine(string line)
    {
        if (line.Contains("##[", StringComparison.Ordinal)) line = line.Replace("##[", "## [", StringComparison.Ordinal);
        return StartsCommand(line) ? CommandGuard + line : line;
    }

    /// <summary>True when the runner would read the line as a <c>::</c> workflow command (after leading white space).</summary>
    public static bool StartsCommand(string line) => line.AsSpan().TrimStart().StartsWith("::", StringComparison.Ordinal);

    /// <summary>
    /// Removes terminal escape sequences (ECMA-48 CSI such as colours and cursor moves, OSC such as titles and links,
    /// and two-character escapes) and any ESC left over: what output that is not a terminal, or a terminal under
    /// <c>NO_COLOR</c>, gets. Text without ESC is returned unchanged.
    /// </summary>
    public static string StripEscapes(string text) =>
        text.Contains('\x1b') ? EscapeSequence().Replace(text, "").Replace("\x1b", "") : text;

    [GeneratedRegex(@"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-_])")]
    private static partial Regex EscapeSequence();

}
