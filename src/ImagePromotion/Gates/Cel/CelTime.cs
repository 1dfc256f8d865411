using System.Globalization;
using System.Text.RegularExpressions;

namespace ImagePromotion.Gates.Cel;

/// <summary>
/// Timestamp and duration text forms as CEL (and protobuf JSON) define them: RFC 3339 timestamps and
/// Go-style durations ("1h30m", "1.5s", "-90ms"). Precision is .NET's 100 ns tick, which is finer than any
/// image age or soak time a policy compares.
/// </summary>
internal static partial class CelTime
{
    private static readonly DateTimeOffset MinTimestamp = new(1, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset MaxTimestamp = new DateTimeOffset(9999, 12, 31, 23, 59, 59, 999, TimeSpan.Zero).AddTicks(9999);
    // Protobuf's Duration range: roughly +-10000 years.
    private static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(315_576_000_000);

    public static DateTimeOffset ParseTimestamp(string text)
    {
        var m = Rfc3339().Match(text);
        if (!m.Success) throw new CelRuntimeException($"timestamp '{text}' is not RFC 3339 (e.g. 2024-05-01T10:00:00Z)");
        try
        {
            var baseTime = new DateTime(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture), DateTimeKind.Unspecified);
            var frac = m.Groups[7].Value;
            long ticks = 0;
            if (frac.Length > 0) ticks = long.Parse(frac.PadRight(7, '0')[..7], CultureInfo.InvariantCulture);
            var offset = TimeSpan.Zero;
            var zone = m.Groups[8].Value;
            if (zone is not ("Z" or "z"))
            {
                var sign = zone[0] == '-' ? -1 : 1;
                offset = sign * new TimeSpan(int.Parse(zone[1..3], CultureInfo.InvariantCulture), int.Parse(zone[4..6], CultureInfo.InvariantCulture), 0);
            }
            return new DateTimeOffset(baseTime.AddTicks(ticks), offset).ToUniversalTime();
        }
        catch (ArgumentException)
        {
            throw new CelRuntimeException($"timestamp '{text}' is out of range");
        }
    }

    public static DateTimeOffset CheckRange(DateTimeOffset t) =>
        t < MinTimestamp || t > MaxTimestamp ? throw new CelRuntimeException("timestamp out of range") : t;

    public static TimeSpan CheckRange(TimeSpan d) =>
        d > MaxDuration || d < -MaxDuration ? throw new CelRuntimeException("duration out of range") : d;

    public static string FormatTimestamp(DateTimeOffset t)
    {
        var utc = t.UtcDateTime;
        var frac = utc.Ticks % TimeSpan.TicksPerSecond;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        if (frac != 0) text += "." + frac.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
        return text + "Z";
    }

    public static TimeSpan ParseDuration(string text)
    {
        var s = text;
        var negative = false;
        if (s.StartsWith('-')) { negative = true; s = s[1..]; }
        else if (s.StartsWith('+')) s = s[1..];
        if (s == "0") return TimeSpan.Zero;
        if (s.Length == 0) throw BadDuration(text);
        decimal ticks = 0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (start == i) throw BadDuration(text);
            if (!decimal.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)) throw BadDuration(text);
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.') i++;
            decimal unitTicks = s[unitStart..i] switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "us" or "µs" => 10,
                "ns" => 0.01m,
                _ => throw BadDuration(text),
            };
            ticks += amount * unitTicks;
            if (ticks > MaxDuration.Ticks) throw new CelRuntimeException($"duration '{text}' is out of range");
        }
        var result = TimeSpan.FromTicks((long)decimal.Round(ticks));
        return negative ? -result : result;
    }

    /// <summary>Protobuf JSON form: seconds with an optional fraction, e.g. "3600s" or "1.5s".</summary>
    public static string FormatDuration(TimeSpan d)
    {
        var ticks = d.Ticks;
        var seconds = ticks / TimeSpan.TicksPerSecond;
        var frac = Math.Abs(ticks % TimeSpan.TicksPerSecond);
        var sign = ticks < 0 && seconds == 0 ? "-" : "";
        var text = sign + seconds.ToString(CultureInfo.InvariantCulture);
        if (frac != 0) text += "." + frac.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
        return text + "s";
    }

    private static CelRuntimeException BadDuration(string text) =>
        new($"duration '{text}' is invalid; use a number with a unit h, m, s, ms, us or ns (e.g. \"1h30m\")");

    [GeneratedRegex(@"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();
}
