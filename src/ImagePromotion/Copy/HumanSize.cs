using System.Globalization;

namespace ImagePromotion.Copy;

/// <summary>
/// Sizes, rates and durations as people read them, in binary units and the invariant culture, so a log
/// reads the same in every CI runner's locale ("1.5 KiB", never "1,5 KiB" or "1536 bytes").
/// </summary>
public static class HumanSize
{
    /// <summary><c>512 B</c>, <c>1.5 KiB</c>, <c>300.0 MiB</c>, <c>1.05 GiB</c>.</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024:0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024 / 1024:0.00} GiB"),
    };

    /// <summary><c>15.0 MiB/s</c>; <c>-</c> for a rate that cannot be measured yet.</summary>
    public static string Rate(double bytesPerSecond) =>
        double.IsFinite(bytesPerSecond) && bytesPerSecond >= 0 ? Bytes((long)bytesPerSecond) + "/s" : "-";

    /// <summary><c>350 ms</c>, <c>1.2 s</c>, <c>4 min 05 s</c>.</summary>
    public static string Duration(TimeSpan t) => t.TotalSeconds switch
    {
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms"),
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes} min {t.Seconds:00} s"),
    };

    /// <summary>Bytes over elapsed time; 0 when no time has passed.</summary>
    public static double PerSecond(long bytes, TimeSpan elapsed) => elapsed > TimeSpan.Zero ? bytes / elapsed.TotalSeconds : 0;
}
