using ImagePromotion.Gates;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Gates;

[TestFixture]
public sealed class StagingAndScanGateTests
{
    private static readonly Digest A = Digest.Sha256("image-a"u8);
    private static readonly Digest B = Digest.Sha256("image-b"u8);
    private static readonly Digest C = Digest.Sha256("image-c"u8);
    private static readonly DateTimeOffset T0 = new(2026, 5, 4, 8, 0, 0, TimeSpan.Zero);

    // A reached staging at T0, B replaced it at T0+6h, C is not in the history.
    private static readonly StagingHistory History = new(B, [new(B, T0.AddHours(6)), new(A, T0)]);

    private static GateResult Staging(Digest candidate, TimeSpan now, TimeSpan window = default, TimeSpan soak = default, StagingHistory? history = null) =>
        new StagingGate(new StagingGateOptions(window, soak), new FixedClock(T0 + now)).Evaluate(candidate, history ?? History);

    [Test]
    public void Current_staging_digest_passes_without_soak()
    {
        var r = Staging(B, TimeSpan.FromHours(7));
        Assert.That(r.Passed, Is.True);
        Assert.That(r.Reason, Does.Contain($"staging runs {B} since 2026-05-04 14:00 UTC"));
    }

    [Test]
    public void Current_digest_before_soak_time_fails_with_wait_time()
    {
        var r = Staging(B, TimeSpan.FromHours(7), soak: TimeSpan.FromHours(4));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("soaked in staging for 1h0m, less than the required 4h0m; wait 3h0m"));
    }

    [Test]
    public void Current_digest_exactly_at_soak_time_passes()
    {
        Assert.That(Staging(B, TimeSpan.FromHours(10), soak: TimeSpan.FromHours(4)).Passed, Is.True);
    }

    [Test]
    public void Replaced_digest_fails_without_a_recent_window()
    {
        var r = Staging(A, TimeSpan.FromHours(7));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain($"no longer what staging runs (replaced 2026-05-04 14:00 UTC by {B})"));
    }

    [Test]
    public void Replaced_digest_passes_within_the_recent_window_if_it_soaked()
    {
        var r = Staging(A, TimeSpan.FromHours(7), window: TimeSpan.FromHours(2), soak: TimeSpan.FromHours(6));
        Assert.That(r.Passed, Is.True, r.Reason);
        Assert.That(r.Reason, Does.Contain("(6h0m), replaced 1h0m ago, within the 2h0m window"));
    }

    [Test]
    public void Replaced_digest_that_did_not_soak_fails()
    {
        var r = Staging(A, TimeSpan.FromHours(7), window: TimeSpan.FromHours(2), soak: TimeSpan.FromHours(8));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("ran in staging only 6h0m"));
    }

    [Test]
    public void Replaced_digest_outside_the_window_fails()
    {
        var r = Staging(A, TimeSpan.FromHours(9), window: TimeSpan.FromHours(2));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("left staging 3h0m ago, outside the 2h0m window"));
    }

    [Test]
    public void Digest_that_never_ran_in_staging_fails()
    {
        var r = Staging(C, TimeSpan.FromHours(7), window: TimeSpan.FromDays(30));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Is.EqualTo($"{C} never ran in staging (staging runs {B})"));
    }

    [Test]
    public void Redeployed_digest_uses_its_latest_rollout_for_soak()
    {
        // A ran, B replaced it, then A was rolled back in at T0+8h.
        var history = new StagingHistory(A, [new(A, T0), new(B, T0.AddHours(6)), new(A, T0.AddHours(8))]);
        Assert.That(Staging(A, TimeSpan.FromHours(9), soak: TimeSpan.FromHours(2), history: history).Passed, Is.False);
        Assert.That(Staging(A, TimeSpan.FromHours(10), soak: TimeSpan.FromHours(2), history: history).Passed, Is.True);
    }

    [Test]
    public void Current_digest_without_history_cannot_prove_soak()
    {
        var r = Staging(C, TimeSpan.Zero, history: new StagingHistory(C, []));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("no rollout record"));
    }

    private static GateResult Scan(ScanSummary? scan, TimeSpan now) =>
        new ScanFreshnessGate(TimeSpan.FromHours(24), new FixedClock(T0 + now)).Evaluate(A, scan);

    [Test]
    public void Fresh_passing_scan_of_the_same_digest_passes()
    {
        var r = Scan(new ScanSummary(A, true, T0, "trivy"), TimeSpan.FromHours(3));
        Assert.That(r, Is.EqualTo(new GateResult("scan", true, $"scan by trivy of {A} passed 3h0m ago (limit 1d0h0m)")));
    }

    [Test]
    public void Scan_of_another_digest_fails()
    {
        var r = Scan(new ScanSummary(B, true, T0), TimeSpan.FromHours(1));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Is.EqualTo($"scan is for {B}, not {A}; scan the digest being promoted"));
    }

    [Test]
    public void Failed_scan_fails()
    {
        Assert.That(Scan(new ScanSummary(A, false, T0), TimeSpan.FromHours(1)).Reason, Does.EndWith("failed"));
    }

    [Test]
    public void Scan_older_than_max_age_fails_and_edge_passes()
    {
        Assert.That(Scan(new ScanSummary(A, true, T0), TimeSpan.FromHours(24)).Passed, Is.True);
        var r = Scan(new ScanSummary(A, true, T0), TimeSpan.FromHours(24).Add(TimeSpan.FromSeconds(1)));
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("older than the 1d0h0m limit; rescan"));
    }

    [Test]
    public void Missing_scan_fails()
    {
        Assert.That(Scan(null, TimeSpan.Zero).Reason, Is.EqualTo($"no scan result for {A}; scan the image before promoting"));
    }

    [Test]
    public void Scan_from_the_future_beyond_clock_skew_fails()
    {
        Assert.That(Scan(new ScanSummary(A, true, T0.AddMinutes(3)), TimeSpan.Zero).Passed, Is.True, "small skew tolerated");
        Assert.That(Scan(new ScanSummary(A, true, T0.AddHours(1)), TimeSpan.Zero).Reason, Does.Contain("in the future"));
    }

    [Test]
    public void Gate_report_aggregates_and_renders_a_table()
    {
        var report = new GateReport(
        [
            GateResult.Pass("conditions", "policy 'prod': image matches passCondition"),
            GateResult.Fail("environment-lock", "production is locked: INC-42"),
            GateResult.Fail("scan", "no scan result"),
        ]);
        Assert.That(report.AllPassed, Is.False);
        Assert.That(report.FailedGates.Select(g => g.Gate), Is.EqualTo(new[] { "environment-lock", "scan" }));
        var lines = report.ToTable().Split('\n');
        Assert.That(lines[0], Is.EqualTo("STATUS  GATE              REASON"));
        Assert.That(lines[2], Is.EqualTo("PASS    conditions        policy 'prod': image matches passCondition"));
        Assert.That(lines[3], Is.EqualTo("FAIL    environment-lock  production is locked: INC-42"));
        Assert.That(lines[^1], Is.EqualTo("2 of 3 gates failed: environment-lock, scan"));
    }

    [Test]
    public void Empty_gate_report_does_not_count_as_passed()
    {
        var report = new GateReport([]);
        Assert.That(report.AllPassed, Is.False);
        Assert.That(report.ToTable(), Does.EndWith("no gates evaluated: promotion blocked"));
        Assert.That(new GateReport([GateResult.Pass("scan", "ok")]).ToTable(), Does.EndWith("all 1 gates passed"));
    }
}
