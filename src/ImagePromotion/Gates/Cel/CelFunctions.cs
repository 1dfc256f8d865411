using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ImagePromotion.Gates.Cel;

/// <summary>The standard functions a promotion policy needs: size, string tests, regex, conversions, time.</summary>
internal static class CelFunctions
{
    // RE2 runs in linear time and has no backreferences or lookaround; .NET's non-backtracking engine has
    // the same guarantees and rejects the same constructs. The timeout is a second fence for huge inputs.
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);
    private static readonly ConcurrentDictionary<string, Regex> RegexCache = new();

    private static readonly HashSet<string> Known =
    [
        "size", "startsWith", "endsWith", "contains", "matches", "lowerAscii", "upperAscii", "int", "uint", "double",
        "string", "bytes", "bool", "dyn", "type", "timestamp", "duration", "getFullYear", "getMonth", "getDayOfYear",
        "getDayOfMonth", "getDate", "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    ];

    public static object? Call(string name, object? target, bool hasTarget, object?[] args)
    {
        // Receiver-style and global forms share one implementation: x.f(a) is f(x, a).
        var all = hasTarget ? [target, .. args] : args;
        return (name, all.Length) switch
        {
            ("size", 1) => Size(all[0]),
            ("startsWith", 2) => Strings(name, all, (s, p) => s.StartsWith(p, StringComparison.Ordinal)),
            ("endsWith", 2) => Strings(name, all, (s, p) => s.EndsWith(p, StringComparison.Ordinal)),
            ("contains", 2) => Strings(name, all, (s, p) => s.Contains(p, StringComparison.Ordinal)),
            ("matches", 2) => Strings(name, all, Matches),
            ("lowerAscii", 1) when all[0] is string s => AsciiCase(s, upper: false),
            ("upperAscii", 1) when all[0] is string s => AsciiCase(s, upper: true),
            ("int", 1) => ToInt(all[0]),
            ("uint", 1) => ToUint(all[0]),
            ("double", 1) => ToDouble(all[0]),
            ("string", 1) => ToText(all[0]),
            ("bytes", 1) => all[0] switch
            {
                CelBytes b => b,
                string s => new CelBytes(Encoding.UTF8.GetBytes(s)),
                _ => throw CelOperators.NoOverload(name, all),
            },
            ("bool", 1) => all[0] switch
            {
                bool b => b,
                string s => s switch
                {
                    "true" or "True" or "TRUE" or "t" or "1" => true,
                    "false" or "False" or "FALSE" or "f" or "0" => false,
                    _ => throw new CelRuntimeException($"cannot convert '{s}' to bool"),
                },
                _ => throw CelOperators.NoOverload(name, all),
            },
            ("dyn", 1) => all[0],
            ("type", 1) => CelTypes.TypeOf(all[0]),
            ("timestamp", 1) => all[0] switch
            {
                CelTimestamp t => t,
                string s => CelTime.ParseTimestamp(s),
                long l => CelTime.FromUnixSeconds(l),
                _ => throw CelOperators.NoOverload(name, all),
            },
            ("duration", 1) => all[0] switch
            {
                CelDuration d => d,
                string s => CelTime.ParseDuration(s),
                _ => throw CelOperators.NoOverload(name, all),
            },
            (_, 1) when hasTarget && all[0] is CelTimestamp t && CelTime.TimestampPart(name, t, null) is { } part => part,
            (_, 2) when hasTarget && all is [CelTimestamp t, string zone] && CelTime.TimestampPart(name, t, zone) is { } part => part,
            (_, 1) when hasTarget && all[0] is CelDuration d && CelTime.DurationPart(name, d) is { } part => part,
            _ when !Known.Contains(name) => throw new CelRuntimeException($"undeclared reference to function '{name}'"),
            _ => throw new CelRuntimeException($"no such overload: {name}({string.Join(", ", all.Select(CelTypes.NameOf))})"),
        };
    }

    private static long Size(object? v) => v switch
    {
        string s => CelTypes.CodePoints(s),
        CelBytes b => b.Value.Length,
        CelMap m => m.Count,
        IReadOnlyList<object?> l => l.Count,
        _ => throw CelOperators.NoOverload("size", v),
    };

    private static bool Strings(string name, object?[] args, Func<string, string, bool> test) =>
        args is [string s, string p] ? test(s, p) : throw CelOperators.NoOverload(name, args);

    private static bool Matches(string text, string pattern)
    {
        Regex re;
        try
        {
            re = RegexCache.GetOrAdd(pattern, p => new Regex(p, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, RegexTimeout));
        }
        catch (ArgumentException e)
        {
            throw new CelRuntimeException($"invalid regular expression '{pattern}': {e.Message}");
        }
        catch (NotSupportedException)
        {
            throw new CelRuntimeException($"invalid regular expression '{pattern}': backreferences, lookaround and atomic groups are not RE2 syntax");
        }
        try
        {
            // CEL's matches() is a partial match (RE2 semantics); anchors must be written explicitly.
            return re.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new CelRuntimeException($"regular expression '{pattern}' took longer than {RegexTimeout.TotalMilliseconds} ms");
        }
    }

    private static string AsciiCase(string s, bool upper) =>
        string.Create(s.Length, s, (span, src) =>
        {
            for (var i = 0; i < src.Length; i++)
                span[i] = upper ? (char.IsAsciiLetterLower(src[i]) ? (char)(src[i] - 32) : src[i])
                                : (char.IsAsciiLetterUpper(src[i]) ? (char)(src[i] + 32) : src[i]);
        });

    private static long ToInt(object? v)
    {
        switch (v)
        {
            case long l: return l;
            case ulong u: return u <= long.MaxValue ? (long)u : throw new CelRuntimeException("int range error: " + u);
            case double d:
                // Truncates toward zero; values outside int64 (and NaN) are errors rather than saturating.
                if (double.IsNaN(d) || d <= -9.2233720368547758E18 || d >= 9.2233720368547758E18)
                    throw new CelRuntimeException("int range error: " + d.ToString("R", CultureInfo.InvariantCulture));
                return (long)Math.Truncate(d);
            case string s:
                return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var r)
                    ? r : throw new CelRuntimeException($"cannot convert '{s}' to int");
            case CelTimestamp t: return t.UnixSeconds;
            case CelDuration d: return d.Nanoseconds / CelDuration.NanosPerSecond;
            default: throw CelOperators.NoOverload("int", v);
        }
    }

    private static ulong ToUint(object? v)
    {
        switch (v)
        {
            case ulong u: return u;
            case long l: return l >= 0 ? (ulong)l : throw new CelRuntimeException("uint range error: " + l);
            case double d:
                if (double.IsNaN(d) || d < 0 || d >= 1.8446744073709552E19)
                    throw new CelRuntimeException("uint range error: " + d.ToString("R", CultureInfo.InvariantCulture));
                return (ulong)Math.Truncate(d);
            case string s:
                return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var r)
                    ? r : throw new CelRuntimeException($"cannot convert '{s}' to uint");
            default: throw CelOperators.NoOverload("uint", v);
        }
    }

    private static double ToDouble(object? v) => v switch
    {
        double d => d,
        long l => l,
        ulong u => u,
        string s => s switch
        {
            "NaN" => double.NaN,
            "Infinity" or "+Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var r)
                ? r : throw new CelRuntimeException($"cannot convert '{s}' to double"),
        },
        _ => throw CelOperators.NoOverload("double", v),
    };

    private static string ToText(object? v) => v switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        ulong u => u.ToString(CultureInfo.InvariantCulture),
        double d => double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "+Inf" : double.IsNegativeInfinity(d) ? "-Inf"
            : d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e"),
        CelBytes b => Utf8OrError(b),
        CelTimestamp t => CelTime.FormatTimestamp(t),
        CelDuration d => CelTime.FormatDuration(d),
        CelType t => t.Name,
        _ => throw CelOperators.NoOverload("string", v),
    };

    private static string Utf8OrError(CelBytes b)
    {
        try { return CelTypes.Utf8(b); }
        catch (DecoderFallbackException) { throw new CelRuntimeException("bytes are not valid UTF-8"); }
    }
}
