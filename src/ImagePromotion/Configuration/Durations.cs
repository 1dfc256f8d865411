using System.Globalization;
using System.Text.RegularExpressions;

namespace ImagePromotion.Configuration;

/// <summary>Durations as people write them in configuration: <c>90s</c>, <c>30m</c>, <c>24h</c>, <c>7d</c>, <c>1h30m</c>.</summary>
public static partial class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (t == "0") return true;
        var m = Shape().Match(t);
        if (!m.Success) return false;
        foreach (Capture c in m.Groups["part"].Captures)
        {
            var unit = c.Value[^1];
            var n = double.Parse(c.Value[..^1], CultureInfo.InvariantCulture);
            value += unit switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), 'm' => TimeSpan.FromMinutes(n), _ => TimeSpan.FromSeconds(n) };
        }
        return true;
    }

    public static string Format(TimeSpan d) =>
        d == TimeSpan.Zero ? "0s"
        : d.TotalDays >= 1 && d.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(int)d.TotalDays}d"
        : d.TotalHours >= 1 && d.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(int)d.TotalHours}h"
        : d.TotalMinutes >= 1 && d.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(int)d.TotalMinutes}m"
        : $"{(long)d.TotalSeconds}s";

    [GeneratedRegex(@"^(?<part>\d+(?:\.\d+)?[dhms])+$")]
    private static partial Regex Shape();
}
