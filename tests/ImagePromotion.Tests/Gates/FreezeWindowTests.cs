using ImagePromotion.Gates;

namespace ImagePromotion.Tests.Gates;

[TestFixture]
public sealed class FreezeWindowTests
{
    private const string Berlin = "Europe/Berlin";
    private const string NewYork = "America/New_York";

    private static GateResult At(string utc, params FreezeWindow[] windows) =>
        new FreezeCalendar(windows, FixedClock.At(utc)).Evaluate("production");

    private static readonly WeeklyFreezeWindow FridayNight =
        new("friday-night", Berlin, [DayOfWeek.Friday], new TimeOnly(18, 0), new TimeOnly(6, 0));

    // 2026-11-20 is a Friday; Berlin is on CET (UTC+1).
    [TestCase("2026-11-20T16:59:00Z", true, TestName = "Crossing midnight: Friday 17:59 local is open")]
    [TestCase("2026-11-20T17:00:00Z", false, TestName = "Crossing midnight: Friday 18:00 local is frozen")]
    [TestCase("2026-11-20T23:30:00Z", false, TestName = "Crossing midnight: Saturday 00:30 local is frozen")]
    [TestCase("2026-11-21T04:59:00Z", false, TestName = "Crossing midnight: Saturday 05:59 local is frozen")]
    [TestCase("2026-11-21T05:00:00Z", true, TestName = "Crossing midnight: Saturday 06:00 local is open")]
    [TestCase("2026-11-21T17:30:00Z", true, TestName = "Crossing midnight: Saturday evening is open (starts Fridays only)")]
    [TestCase("2026-11-19T23:30:00Z", true, TestName = "Crossing midnight: Friday 00:30 local is open (no Thursday start)")]
    public void Weekly_window_crossing_midnight(string utc, bool open)
    {
        var r = At(utc, FridayNight);
        Assert.That(r.Passed, Is.EqualTo(open), r.Reason);
        if (!open) Assert.That(r.Reason, Does.Contain("production is frozen").And.Contain("'friday-night' (Fri 18:00-06:00 next day Europe/Berlin)"));
    }

    [Test]
    public void Weekly_window_follows_local_wall_clock_across_dst()
    {
        var evenings = new WeeklyFreezeWindow("evenings", Berlin,
            [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday], new TimeOnly(18, 0), new TimeOnly(20, 0));
        // Winter (CET, UTC+1): 18:00 local is 17:00Z. Summer (CEST, UTC+2): 18:00 local is 16:00Z.
        Assert.That(At("2026-01-14T17:00:00Z", evenings).Passed, Is.False);
        Assert.That(At("2026-01-14T16:30:00Z", evenings).Passed, Is.True);
        Assert.That(At("2026-07-15T16:00:00Z", evenings).Passed, Is.False);
        Assert.That(At("2026-07-15T18:00:00Z", evenings).Passed, Is.True);
    }

    [Test]
    public void Spring_forward_gap_shortens_a_window_that_spans_it()
    {
        // New York, Sunday 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00Z.
        var w = new WeeklyFreezeWindow("maintenance", NewYork, [DayOfWeek.Sunday], new TimeOnly(1, 30), new TimeOnly(2, 30));
        Assert.That(At("2026-03-08T06:29:00Z", w).Passed, Is.True, "01:29 EST");
        Assert.That(At("2026-03-08T06:30:00Z", w).Passed, Is.False, "01:30 EST");
        Assert.That(At("2026-03-08T06:59:59Z", w).Passed, Is.False, "01:59:59 EST");
        Assert.That(At("2026-03-08T07:00:00Z", w).Passed, Is.True, "03:00 EDT: 02:00-02:30 never happened");
    }

    [Test]
    public void Fall_back_repeats_the_window_for_both_occurrences_of_the_hour()
    {
        // New York, Sunday 2026-11-01: 02:00 EDT falls back to 01:00 EST at 06:00Z, so 01:xx happens twice.
        var w = new WeeklyFreezeWindow("maintenance", NewYork, [DayOfWeek.Sunday], new TimeOnly(1, 15), new TimeOnly(1, 45));
        Assert.That(At("2026-11-01T05:30:00Z", w).Passed, Is.False, "01:30 EDT (first pass)");
        Assert.That(At("2026-11-01T05:50:00Z", w).Passed, Is.True, "01:50 EDT");
        Assert.That(At("2026-11-01T06:00:00Z", w).Passed, Is.True, "01:00 EST");
        Assert.That(At("2026-11-01T06:30:00Z", w).Passed, Is.False, "01:30 EST (second pass)");
    }

    [TestCase("2026-12-19T22:59:00Z", true)]
    [TestCase("2026-12-19T23:00:00Z", false)]
    [TestCase("2027-01-03T22:59:59Z", false)]
    [TestCase("2027-01-03T23:00:00Z", true)]
    public void Date_range_window_is_start_inclusive_end_exclusive_in_local_time(string utc, bool open)
    {
        var yearEnd = new DateRangeFreezeWindow("year-end", Berlin, new DateTime(2026, 12, 20), new DateTime(2027, 1, 4));
        var r = At(utc, yearEnd);
        Assert.That(r.Passed, Is.EqualTo(open), r.Reason);
        if (!open) Assert.That(r.Reason, Does.Contain("'year-end' (2026-12-20 00:00 to 2027-01-04 00:00 Europe/Berlin)"));
    }

    [Test]
    public void Date_range_starting_in_spring_forward_gap_starts_after_the_gap()
    {
        var w = new DateRangeFreezeWindow("release-freeze", NewYork, new DateTime(2026, 3, 8, 2, 30, 0), new DateTime(2026, 3, 9));
        Assert.That(At("2026-03-08T06:59:00Z", w).Passed, Is.True);
        Assert.That(At("2026-03-08T07:00:00Z", w).Passed, Is.False);
    }

    [Test]
    public void Date_range_starting_at_ambiguous_time_starts_at_first_occurrence()
    {
        var w = new DateRangeFreezeWindow("release-freeze", NewYork, new DateTime(2026, 11, 1, 1, 30, 0), new DateTime(2026, 11, 2));
        Assert.That(At("2026-11-01T05:29:00Z", w).Passed, Is.True);
        Assert.That(At("2026-11-01T05:30:00Z", w).Passed, Is.False);
    }

    [Test]
    public void All_active_windows_are_named()
    {
        var all = new WeeklyFreezeWindow("always", "UTC", [DayOfWeek.Friday], new TimeOnly(0, 0), new TimeOnly(0, 0));
        var r = At("2026-11-20T19:00:00Z", FridayNight, all);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("'friday-night'").And.Contain("'always'"));
        Assert.That(r.Reason, Does.Contain("2026-11-20 19:00 UTC"));
    }

    [Test]
    public void No_windows_passes()
    {
        var r = At("2026-11-20T19:00:00Z");
        Assert.That(r, Is.EqualTo(new GateResult("freeze-window", true, "production has no active freeze at 2026-11-20 19:00 UTC (0 window(s) checked)")));
    }

    [Test]
    public void Unknown_time_zone_is_a_one_line_error_naming_window_and_zone()
    {
        var w = new WeeklyFreezeWindow("nights", "Mars/Olympus_Mons", [DayOfWeek.Monday], new TimeOnly(1, 0), new TimeOnly(2, 0));
        var e = Assert.Throws<PromotionException>(() => new FreezeCalendar([w]))!;
        Assert.That(e.Message, Is.EqualTo("freeze window 'nights': time zone 'Mars/Olympus_Mons' is unknown; use an IANA id such as 'Europe/Berlin' or 'UTC'"));
    }

    [Test]
    public void Invalid_windows_are_rejected()
    {
        Assert.That(() => new FreezeCalendar([new WeeklyFreezeWindow("w", "UTC", [], new TimeOnly(1, 0), new TimeOnly(2, 0))]),
            Throws.TypeOf<PromotionException>().With.Message.Contains("lists no days"));
        Assert.That(() => new FreezeCalendar([new DateRangeFreezeWindow("r", "UTC", new DateTime(2026, 2, 1), new DateTime(2026, 1, 1))]),
            Throws.TypeOf<PromotionException>().With.Message.Contains("ends before it starts"));
    }

    [Test]
    public void Clock_is_read_at_evaluation_time()
    {
        var clock = FixedClock.At("2026-11-20T16:00:00Z");
        var calendar = new FreezeCalendar([FridayNight], clock);
        Assert.That(calendar.Evaluate("production").Passed, Is.True);
        clock.Now = clock.Now.AddHours(2);
        Assert.That(calendar.Evaluate("production").Passed, Is.False);
    }

    [Test]
    public void Locked_environment_fails_with_the_reason()
    {
        var r = EnvironmentLockGate.Evaluate("production", new EnvironmentLock(true, " INC-42: payments outage "));
        Assert.That(r, Is.EqualTo(new GateResult("environment-lock", false, "production is locked: INC-42: payments outage")));
    }

    [Test]
    public void Lock_without_reason_still_fails()
    {
        Assert.That(EnvironmentLockGate.Evaluate("production", new EnvironmentLock(true)).Reason, Is.EqualTo("production is locked: no reason given"));
    }

    [Test]
    public void Unlocked_or_unknown_lock_passes()
    {
        Assert.That(EnvironmentLockGate.Evaluate("production", new EnvironmentLock(false, "stale reason")).Passed, Is.True);
        Assert.That(EnvironmentLockGate.Evaluate("production", null).Passed, Is.True);
    }
}
