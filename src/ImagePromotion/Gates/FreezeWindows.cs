using System.Globalization;

namespace ImagePromotion.Gates;

/// <summary>A period in which promotions to an environment are frozen, defined in a named IANA time zone.</summary>
public abstract record FreezeWindow(string Name, string TimeZoneId)
{
    /// <summary>Whether the instant falls inside the window.</summary>
    public abstract bool Contains(DateTimeOffset instant, TimeZoneInfo zone);

    /// <summary>The window in words, in its own zone, for gate reasons.</summary>
    public abstract string Describe();
}

/// <summary>
/// A freeze that recurs every week on the given days between local start and end times. When End is not
/// after Start the window crosses midnight and ends on the following day (e.g. Friday 18:00 to 06:00).
/// Days are the days a window starts on. Local wall-clock time is compared, so "18:00" stays 18:00 across
/// daylight saving changes.
/// </summary>
public sealed record WeeklyFreezeWindow(string Name, string TimeZoneId, IReadOnlyCollection<DayOfWeek> Days, TimeOnly Start, TimeOnly End)
    : FreezeWindow(Name, TimeZoneId)
{
    /// <inheritdoc/>
    public override bool Contains(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        var time = TimeOnly.FromDateTime(local);
        var crossesMidnight = End <= Start;
        if (Days.Contains(local.DayOfWeek) && time >= Start && (crossesMidnight || time < End)) return true;
        // The tail of a window that started the previous evening.
        return crossesMidnight && Days.Contains(local.AddDays(-1).DayOfWeek) && time < End;
    }

    /// <summary><c>'name' (Mon/Fri 18:00-06:00 next day Europe/Berlin)</c>: days Monday first, times in the window's zone.</summary>
    public override string Describe() =>
        $"'{Name}' ({string.Join("/", Days.OrderBy(d => ((int)d + 6) % 7).Select(d => d.ToString()[..3]))} "
        + $"{Start:HH\\:mm}-{End:HH\\:mm}{(End <= Start ? " next day" : "")} {TimeZoneId})";
}

/// <summary>
/// A one-off freeze between two local date-times, end exclusive (e.g. a year-end change freeze).
/// A local time that does not exist (skipped by a spring-forward change) is moved past the gap; a local time
/// that occurs twice (fall-back) means its first occurrence, so the freeze never starts late.
/// </summary>
public sealed record DateRangeFreezeWindow(string Name, string TimeZoneId, DateTime StartLocal, DateTime EndLocal)
    : FreezeWindow(Name, TimeZoneId)
{
    /// <inheritdoc/>
    public override bool Contains(DateTimeOffset instant, TimeZoneInfo zone) =>
        instant >= ToInstant(StartLocal, zone) && instant < ToInstant(EndLocal, zone);

    /// <summary><c>'name' (2026-12-20 00:00 to 2027-01-04 00:00 Europe/Berlin)</c>: local start and exclusive end in the window's zone.</summary>
    public override string Describe() =>
        $"'{Name}' ({StartLocal.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} to "
        + $"{EndLocal.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} {TimeZoneId})";

    internal static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        var wall = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(wall))
        {
            // Walk forward minute by minute to the first wall time that exists (gaps are at most a few hours).
            var probe = wall;
            while (zone.IsInvalidTime(probe)) probe = probe.AddMinutes(1);
            wall = new DateTime(probe.Ticks - probe.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Unspecified);
        }
        var offset = zone.IsAmbiguousTime(wall) ? zone.GetAmbiguousTimeOffsets(wall).Max() : zone.GetUtcOffset(wall);
        return new DateTimeOffset(wall, offset);
    }
}

/// <summary>The freeze windows of one environment, judged against an injected clock.</summary>
public sealed class FreezeCalendar
{
    /// <summary>The gate name in results and records.</summary>
    public const string GateName = "freeze-window";

    private readonly List<(FreezeWindow Window, TimeZoneInfo Zone)> _windows = new();
    private readonly TimeProvider _clock;

    /// <summary>Resolves every window's time zone up front; throws PromotionException naming a bad window.</summary>
    public FreezeCalendar(IEnumerable<FreezeWindow> windows, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(windows);
        _clock = clock ?? TimeProvider.System;
        foreach (var w in windows)
        {
            Validate(w);
            _windows.Add((w, FindZone(w)));
        }
    }

    /// <summary>The windows as configured, in configuration order.</summary>
    public IReadOnlyList<FreezeWindow> Windows => _windows.Select(w => w.Window).ToArray();

    /// <summary>Fails when the current instant is inside any window, naming every active window.</summary>
    public GateResult Evaluate(string environment)
    {
        var now = _clock.GetUtcNow();
        var active = _windows.Where(w => w.Window.Contains(now, w.Zone)).Select(w => w.Window.Describe()).ToArray();
        var at = now.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        return active.Length == 0
            ? GateResult.Pass(GateName, $"{environment} has no active freeze at {at} ({_windows.Count} window(s) checked)")
            : GateResult.Fail(GateName, $"{environment} is frozen at {at} by {string.Join(", ", active)}");
    }

    private static void Validate(FreezeWindow w)
    {
        if (string.IsNullOrWhiteSpace(w.Name))
            throw new PromotionException("freeze window has no name; give every window a name so gate reports can cite it");
        switch (w)
        {
            case WeeklyFreezeWindow { Days.Count: 0 }:
                throw new PromotionException($"freeze window '{w.Name}' lists no days; add the days of the week it starts on");
            case DateRangeFreezeWindow r when r.EndLocal <= r.StartLocal:
                throw new PromotionException($"freeze window '{w.Name}' ends before it starts; set its end after its start");
        }
    }

    private static TimeZoneInfo FindZone(FreezeWindow w)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(w.TimeZoneId);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw new PromotionException(
                $"freeze window '{w.Name}': time zone '{w.TimeZoneId}' is unknown; use an IANA id such as 'Europe/Berlin' or 'UTC'");
        }
    }
}
