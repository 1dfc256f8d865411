using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Writes a new scalar value in the style of the one it replaces. A plain scalar stays plain unless the
/// new value would then mean something else (a number, a boolean, a flow indicator), which a tag such as
/// <c>1.20</c> would; only then is it double-quoted.
/// </summary>
internal static partial class ScalarText
{
    public static TextEdit Replace(string text, SourceScalar node, string value, string where)
    {
        switch (node.Style)
        {
            case ScalarStyle.Literal or ScalarStyle.Folded:
                throw new PromotionException($"{where} is a block scalar (| or >); write it as a plain or quoted scalar and retry");
            case ScalarStyle.Plain when node.Value.Length == 0 && node.ValueStart == node.ContentEnd:
                // An empty value (`digest:`) has no characters to replace: insert after the indicator.
                var gap = node.ValueStart > 0 && text[node.ValueStart - 1] is ':' or '-' ? " " : "";
                return new TextEdit(node.ValueStart, node.ValueStart, gap + Render(value, node.InFlow));
            case ScalarStyle.Plain:
                return new TextEdit(node.ValueStart, node.ContentEnd, Render(value, node.InFlow));
            case ScalarStyle.SingleQuoted when !value.Any(char.IsControl):
                return new TextEdit(node.ValueStart, node.ContentEnd, "'" + value.Replace("'", "''") + "'");
            default:
                return new TextEdit(node.ValueStart, node.ContentEnd, DoubleQuoted(value));
        }
    }

    /// <summary>Plain when that reads back as the same string, else double-quoted.</summary>
    public static string Render(string value, bool inFlow) => IsPlainSafe(value, inFlow) ? value : DoubleQuoted(value);

    public static bool IsPlainSafe(string value, bool inFlow)
    {
        if (value.Length == 0 || value != value.Trim() || value.Any(char.IsControl)) return false;
        if ("-?:,[]{}#&*!|>'\"%@`".Contains(value[0])) return false;
        if (value.Contains(": ") || value.Contains(" #") || value.EndsWith(':')) return false;
        if (inFlow && value.IndexOfAny([',', '[', ']', '{', '}']) >= 0) return false;
        return !NonString().IsMatch(value);
    }

    /// <summary>True when a YAML 1.1 or 1.2 loader reads the plain scalar as null, a boolean, a number or a timestamp.</summary>
    public static bool ReadsAsNonString(string value) => value.Length == 0 || NonString().IsMatch(value);

    public static string DoubleQuoted(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    // What YAML 1.1 (Helm's go-yaml v2, PyYAML) or 1.2 would read as null, a boolean, a number (decimal,
    // 0x hex, 0o/0 octal, 0b binary, base 60, .inf/.nan) or a timestamp (the 1.1 timestamp type: 2024-01-15,
    // 2024-01-15T10:00:00Z), or as the 1.1 value key "=": all of these must be quoted to stay strings.
    [GeneratedRegex(@"^(?:~|=|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
        + @"|[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?0x[0-9a-fA-F_]+|0o[0-7_]+|[-+]?0b[01_]+"
        + @"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
        + @"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?)$")]
    private static partial Regex NonString();
}
