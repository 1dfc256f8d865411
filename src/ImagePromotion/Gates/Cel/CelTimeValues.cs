namespace ImagePromotion.Gates.Cel;

// CEL's timestamp and duration carry nanoseconds (cel-spec langdef "Timestamps and durations"; the
// conformance suite checks "9999-12-31T23:59:59.999999999Z" round-trips). .NET's DateTimeOffset and TimeSpan
// stop at 100 ns ticks, so CEL values are these two structs; hosts pass DateTimeOffset/TimeSpan in
// (CelTypes.FromClr converts) and read them back with ToDateTimeOffset/ToTimeSpan.

/// <summary>
/// A CEL duration (<c>google.protobuf.Duration</c>): a signed count of nanoseconds. cel-spec langdef
/// "Overflow": "Duration values are limited to a single int64 value, or roughly +-290 years", which is
/// exactly the range of <see cref="Nanoseconds"/>.
/// </summary>
public readonly record struct CelDuration(long Nanoseconds) : IComparable<CelDuration>
{
    /// <summary>Nanoseconds in one second.</summary>
    public const long NanosPerSecond = 1_000_000_000;

    /// <summary>Converts a host TimeSpan (100 ns ticks); fails with <see cref="ArgumentOutOfRangeException"/> beyond about ±292 years.</summary>
    public static CelDuration FromTimeSpan(TimeSpan value) =>
        value.Ticks is > long.MaxValue / 100 or < long.MinValue / 100
            ? throw new ArgumentOutOfRangeException(nameof(value), value, "a CEL duration is at most about 292 years (int64 nanoseconds)")
            : new(value.Ticks * 100);

    /// <summary>The duration as a TimeSpan, truncated toward zero to 100 ns ticks.</summary>
    public TimeSpan ToTimeSpan() => TimeSpan.FromTicks(Nanoseconds / 100);

    /// <summary>Orders by length, negative before positive.</summary>
    public int CompareTo(CelDuration other) => Nanoseconds.CompareTo(other.Nanoseconds);

    /// <summary>The protobuf JSON form CEL's string() gives, e.g. "5400s", "-1.5s", "0.000000001s".</summary>
    public override string ToString() => CelTime.FormatDuration(this);
}

/// <summary>
/// A CEL timestamp (<c>google.protobuf.Timestamp</c>): nanoseconds since the Unix epoch, UTC. cel-spec
/// langdef "Overflow": the range is what RFC 3339 can write, 0001-01-01T00:00:00Z to
/// 9999-12-31T23:59:59.999999999Z; <see cref="FromUnixNanoseconds"/> enforces it.
/// </summary>
public readonly record struct CelTimestamp : IComparable<CelTimestamp>
{
    internal static readonly Int128 MinUnixNanoseconds = (Int128)(-62_135_596_800L) * CelDuration.NanosPerSecond;
    internal static readonly Int128 MaxUnixNanoseconds = (Int128)253_402_300_799L * CelDuration.NanosPerSecond + 999_999_999;

    private CelTimestamp(Int128 unixNanoseconds) => UnixNanoseconds = unixNanoseconds;

    /// <summary>Nanoseconds since 1970-01-01T00:00:00Z (negative before it).</summary>
    public Int128 UnixNanoseconds { get; }

    /// <summary>Whole seconds since the epoch, rounded down (so -0.5 s is second -1, as protobuf's seconds field).</summary>
    public long UnixSeconds => (long)FloorDiv(UnixNanoseconds, CelDuration.NanosPerSecond);

    /// <summary>The nanoseconds within the second, 0 to 999,999,999.</summary>
    public int NanosOfSecond => (int)(UnixNanoseconds - (Int128)UnixSeconds * CelDuration.NanosPerSecond);

    /// <summary>A timestamp; <see cref="ArgumentOutOfRangeException"/> outside years 0001 to 9999.</summary>
    public static CelTimestamp FromUnixNanoseconds(Int128 unixNanoseconds) =>
        unixNanoseconds < MinUnixNanoseconds || unixNanoseconds > MaxUnixNanoseconds
            ? throw new ArgumentOutOfRangeException(nameof(unixNanoseconds), "a CEL timestamp lies between years 0001 and 9999")
            : new(unixNanoseconds);

    /// <summary>Converts a host instant (any offset) to its UTC timestamp.</summary>
    public static CelTimestamp FromDateTimeOffset(DateTimeOffset value) =>
        new((Int128)(value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100);

    /// <summary>The instant as a UTC DateTimeOffset, rounded down to 100 ns ticks.</summary>
    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddTicks((long)FloorDiv(UnixNanoseconds, 100));

    /// <summary>Orders by instant.</summary>
    public int CompareTo(CelTimestamp other) => UnixNanoseconds.CompareTo(other.UnixNanoseconds);

    /// <summary>RFC 3339 in UTC with as many fraction digits as needed, e.g. "2009-02-13T23:31:30.5Z".</summary>
    public override string ToString() => CelTime.FormatTimestamp(this);

    private static Int128 FloorDiv(Int128 a, Int128 b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }
}
