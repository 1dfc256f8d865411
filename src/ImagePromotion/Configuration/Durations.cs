using System.Globalization;
using System.Text.RegularExpressions;

namespace ImagePromotion.Configuration;

/// <summary>Durations as people write them in configuration: <c>90s</c>, <c>30m</c>, <c>24h</c>, <c>7d</c>, <c>1h30m</c>.</summary>
public static partial class Durations
{
    /// <summary>Parses <c>0</c> or one or more number-unit parts (<c>d</c>, <c>h</c>, <c>m</c>, <c>s</c>; decimals allowed) into a span; false (and zero) on anything else.</summary>
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

    /// <summary>Formats a span in the largest whole unit that represents it exactly (<c>7d</c>, <c>24h</c>, <c>30m</c>), otherwise in seconds; the inverse of <see cref="TryParse"/>.</summary>
    public static string Format(TimeSpan d) =>
        d == TimeSpan.Zero ? "0s"
        : d.TotalDays >= 1 && d.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(int)d.TotalDays}d"
        : d.TotalHours >= 1 && d.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(int)d.TotalHours}h"
        : d.TotalMinutes >= 1 && d.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(int)d.TotalMinutes}m"
        : $"{(long)d.TotalSeconds}s";

    [GeneratedRegex(@"^(?<part>\d+(?:\.\d+)?[dhms])+$")]
    private static partial Regex Shape();
}
