namespace ImagePromotion.Tests.Gates;

/// <summary>A clock frozen at one instant, so time-based gates are tested at exact edges.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;

    public static FixedClock At(string iso) => new(DateTimeOffset.Parse(iso, global::System.Globalization.CultureInfo.InvariantCulture));
}
