using System.Globalization;
using System.Text.RegularExpressions;

namespace ImagePromotion.Gates.Cel;

/// <summary>
/// Timestamp and duration text forms, arithmetic and calendar accessors as cel-spec defines them: RFC 3339
/// timestamps, Go-style durations ("1h30m", "1.5s", "-90ms"), nanosecond precision, and range errors instead
/// of wrapping (langdef "Overflow").
/// </summary>
internal static partial class CelTime
{
    private const long NanosPerSecond = CelDuration.NanosPerSecond;

    public static CelTimestamp ParseTimestamp(string text)
    {
        var m = Rfc3339().Match(text);
        if (!m.Success) throw new CelRuntimeException($"timestamp '{text}' is not RFC 3339 (e.g. 2024-05-01T10:00:00Z)");
        int Part(int group) => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
        // Years 0000 and 10000+ match the pattern so that they report the range, not the syntax.
        if (m.Groups[1].Value.Length != 4 || Part(1) == 0) throw new CelRuntimeException($"timestamp '{text}' is out of range (years 0001 to 9999)");
        DateTime date;
        try
        {
            date = new DateTime(Part(1), Part(2), Part(3), Part(4), Part(5), Part(6), DateTimeKind.Utc);
        }
        catch (ArgumentException)
        {
            throw new CelRuntimeException($"timestamp '{text}' names a date or time that does not exist");
        }
        var nanos = m.Groups[7].Value is { Length: > 0 } frac ? int.Parse(frac.PadRight(9, '0'), CultureInfo.InvariantCulture) : 0;
        long offsetSeconds = 0;
        var zone = m.Groups[8].Value;
        if (zone is not ("Z" or "z"))
        {
            offsetSeconds = int.Parse(zone[1..3], CultureInfo.InvariantCulture) * 3600 + int.Parse(zone[4..6], CultureInfo.InvariantCulture) * 60;
            if (zone[0] == '-') offsetSeconds = -offsetSeconds;
        }
        var seconds = (date.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond - offsetSeconds;
        return Timestamp((Int128)seconds * NanosPerSecond + nanos);
    }

    /// <summary>The timestamp <paramref name="unixSeconds"/> after the epoch (cel-spec <c>timestamp(int)</c>).</summary>
    public static CelTimestamp FromUnixSeconds(long unixSeconds) => Timestamp((Int128)unixSeconds * NanosPerSecond);

    public static string FormatTimestamp(CelTimestamp t)
    {
        var text = DateTimeOffset.FromUnixTimeSeconds(t.UnixSeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return text + Fraction(t.NanosOfSecond) + "Z";
    }

    public static CelDuration ParseDuration(string text)
    {
        var s = text;
        var negative = false;
        if (s.StartsWith('-')) { negative = true; s = s[1..]; }
        else if (s.StartsWith('+')) s = s[1..];
        if (s == "0") return new CelDuration(0);
        if (s.Length == 0) throw BadDuration(text);
        decimal nanos = 0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (start == i) throw BadDuration(text);
            if (!decimal.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)) throw BadDuration(text);
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.') i++;
            decimal unitNanos = s[unitStart..i] switch
            {
                "h" => 3600m * NanosPerSecond,
                "m" => 60m * NanosPerSecond,
                "s" => NanosPerSecond,
                "ms" => 1_000_000,
                "us" or "µs" => 1_000,
                "ns" => 1,
                _ => throw BadDuration(text),
            };
            nanos += amount * unitNanos;
            if (nanos > long.MaxValue) throw new CelRuntimeException($"duration '{text}' is out of range (about ±292 years)");
        }
        var whole = (long)decimal.Truncate(nanos);
        return new CelDuration(negative ? -whole : whole);
    }

    /// <summary>Protobuf JSON form: seconds with an optional fraction, e.g. "3600s" or "-1.5s".</summary>
    public static string FormatDuration(CelDuration d)
    {
        var seconds = d.Nanoseconds / NanosPerSecond;
        var frac = (int)Math.Abs(d.Nanoseconds % NanosPerSecond);
        var sign = d.Nanoseconds < 0 && seconds == 0 ? "-" : "";
        return sign + seconds.ToString(CultureInfo.InvariantCulture) + Fraction(frac) + "s";
    }

    private static string Fraction(int nanos) =>
        nanos == 0 ? "" : "." + nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');

    // langdef "Overflow": arithmetic past the timestamp or duration range is an error, never a wrap.
    public static CelTimestamp Add(CelTimestamp t, CelDuration d) => Timestamp(t.UnixNanoseconds + d.Nanoseconds);

    public static CelTimestamp Subtract(CelTimestamp t, CelDuration d) => Timestamp(t.UnixNanoseconds - d.Nanoseconds);

    public static CelDuration Subtract(CelTimestamp a, CelTimestamp b) => Duration(a.UnixNanoseconds - b.UnixNanoseconds);

    public static CelDuration Add(CelDuration a, CelDuration b) => Duration((Int128)a.Nanoseconds + b.Nanoseconds);

    public static CelDuration Subtract(CelDuration a, CelDuration b) => Duration((Int128)a.Nanoseconds - b.Nanoseconds);

    public static CelDuration Negate(CelDuration d) => Duration(-(Int128)d.Nanoseconds);

    private static CelTimestamp Timestamp(Int128 unixNanos) =>
        unixNanos < CelTimestamp.MinUnixNanoseconds || unixNanos > CelTimestamp.MaxUnixNanoseconds
            ? throw new CelRuntimeException("timestamp out of range (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z)")
            : CelTimestamp.FromUnixNanoseconds(unixNanos);

    private static CelDuration Duration(Int128 nanos) =>
        nanos < long.MinValue || nanos > long.MaxValue
            ? throw new CelRuntimeException("duration out of range (about ±292 years)")
            : new CelDuration((long)nanos);

    /// <summary>
    /// The timestamp accessors (langdef "Date/Time Functions"): in UTC, or in the time zone given as an IANA
    /// name or a fixed offset. getMonth, getDayOfYear and getDayOfMonth count from zero; getDate from one.
    /// </summary>
    public static long? TimestampPart(string name, CelTimestamp t, string? zone)
    {
        var instant = DateTimeOffset.FromUnixTimeSeconds(t.UnixSeconds);
        DateTime local;
        try { local = (zone is null ? instant : TimeZoneInfo.ConvertTime(instant, FindZone(zone))).DateTime; }
        catch (ArgumentOutOfRangeException) { throw new CelRuntimeException($"timestamp {t} in time zone '{zone}' is out of range"); }
        return name switch
        {
            "getFullYear" => local.Year,
            "getMonth" => local.Month - 1,
            "getDayOfYear" => local.DayOfYear - 1,
            "getDayOfMonth" => local.Day - 1,
            "getDate" => local.Day,
            "getDayOfWeek" => (long)local.DayOfWeek,
            "getHours" => local.Hour,
            "getMinutes" => local.Minute,
            "getSeconds" => local.Second,
            "getMilliseconds" => t.NanosOfSecond / 1_000_000,
            _ => null,
        };
    }

    /// <summary>
    /// The duration accessors. langdef "getMilliseconds": hours, minutes and seconds convert the whole
    /// duration; getMilliseconds is "the milliseconds portion of the duration value ... this method does not"
    /// convert (duration("1.234s").getMilliseconds() is 234). Results truncate toward zero.
    /// </summary>
    public static long? DurationPart(string name, CelDuration d) => name switch
    {
        "getHours" => d.Nanoseconds / (3600 * NanosPerSecond),
        "getMinutes" => d.Nanoseconds / (60 * NanosPerSecond),
        "getSeconds" => d.Nanoseconds / NanosPerSecond,
        "getMilliseconds" => d.Nanoseconds % NanosPerSecond / 1_000_000,
        _ => null,
    };

    private static TimeZoneInfo FindZone(string zone)
    {
        // langdef "Timezones": FixedTZ is ("+" | "-") Digit Digit ":" Digit Digit. The conformance suite
        // (timestamps.textproto, timestamp_selectors_tz/getHours) also passes "02:00", an offset without a
        // sign, and expects it read as east of UTC, as cel-go and cel-java do.
        if (FixedOffset().Match(zone) is { Success: true } m)
        {
            var offset = new TimeSpan(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), 0);
            if (offset > TimeSpan.FromHours(14)) throw new CelRuntimeException($"time zone offset '{zone}' is beyond ±14:00");
            if (m.Groups[1].Value == "-") offset = -offset;
            return TimeZoneInfo.CreateCustomTimeZone(zone, offset, zone, zone);
        }
        try { return TimeZoneInfo.FindSystemTimeZoneById(zone); }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new CelRuntimeException($"unknown time zone '{zone}'");
        }
    }

    private static CelRuntimeException BadDuration(string text) =>
        new($"duration '{text}' is invalid; use a number with a unit h, m, s, ms, us or ns (e.g. \"1h30m\")");

    [GeneratedRegex(@"^([0-9]{4,})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})$")]
    private static partial Regex Rfc3339();

    [GeneratedRegex(@"^([+-]?)([0-9]{2}):([0-5][0-9])$")]
    private static partial Regex FixedOffset();
}
