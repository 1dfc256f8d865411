using ImagePromotion.Gates;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Gates;

[TestFixture]
public sealed class PromotionGatesTests
{
    private static readonly Digest Candidate = Digest.Sha256("release-1.4.2"u8);
    private static readonly DateTimeOffset Now = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero); // a Wednesday

    private static PromotionGateInputs Inputs() => new()
    {
        Policy = new PromotionPolicy
        {
            Name = "prod",
            PassCondition = "imageAge >= duration('24h') && digest == image.digest && builtAt < now",
            FailCondition = "scan.critical > 0",
            RequiredApprovals = 1,
            Approvers = ["bob"],
        },
        Variables = new PromotionVariables
        {
            Environment = "production", SourceEnvironment = "staging", Branch = "main",
            BuiltAt = Now.AddDays(-2), ScanCounts = new Dictionary<string, long>(), Requester = "alice", Deployer = "release-bot",
        },
        Candidate = Candidate,
        EnvironmentChain = ["dev", "staging", "production"],
        Approvals = new ApprovalRequest([new Review("bob", ReviewState.Approved, "c0ffee", Now.AddHours(-1))], "c0ffee", "alice", "ci-bot", "release-bot"),
        Lock = new EnvironmentLock(false),
        FreezeWindows = [new WeeklyFreezeWindow("weekend", "Europe/Berlin", [DayOfWeek.Saturday, DayOfWeek.Sunday], new TimeOnly(0, 0), new TimeOnly(0, 0))],
        Staging = new StagingHistory(Candidate, [new StagingDeployment(Candidate, Now.AddHours(-30))]),
        StagingOptions = new StagingGateOptions(SoakTime: TimeSpan.FromHours(24)),
        Scan = new ScanSummary(Candidate, true, Now.AddHours(-2), "trivy"),
        ScanMaxAge = TimeSpan.FromDays(1),
    };

    [Test]
    public void Compliant_promotion_passes_every_gate()
    {
        var report = PromotionGates.Evaluate(Inputs(), new FixedClock(Now));
        Assert.That(report.Results.Select(r => r.Gate), Is.EqualTo(new[]
            { "conditions", "promotion-path", "approvals", "environment-lock", "freeze-window", "staging", "scan" }));
        Assert.That(report.AllPassed, Is.True, report.ToTable());
    }

    [Test]
    public void Image_age_is_derived_from_build_time_and_clock()
    {
        var inputs = Inputs() with { Variables = Inputs().Variables with { BuiltAt = Now.AddHours(-3) } };
        var report = PromotionGates.Evaluate(inputs, new FixedClock(Now));
        Assert.That(report.FailedGates.Select(g => g.Gate), Is.EqualTo(new[] { "conditions" }));
    }

    [Test]
    public void Several_failures_are_all_reported()
    {
        var inputs = Inputs() with
        {
            Lock = new EnvironmentLock(true, "INC-7"),
            Scan = new ScanSummary(Candidate, true, Now.AddDays(-3)),
        };
        var report = PromotionGates.Evaluate(inputs, new FixedClock(Now.AddDays(3))); // Saturday: weekend freeze too
        Assert.That(report.FailedGates.Select(g => g.Gate), Is.EqualTo(new[] { "environment-lock", "freeze-window", "scan" }));
        Assert.That(report.ToTable(), Does.Contain("production is locked: INC-7"));
    }

    [Test]
    public void Mismatched_digest_in_variables_is_rejected()
    {
        var inputs = Inputs() with { Variables = Inputs().Variables with { Digest = Digest.Sha256("other"u8).ToString() } };
        Assert.That(() => PromotionGates.Evaluate(inputs, new FixedClock(Now)),
            Throws.TypeOf<PromotionException>().With.Message.Contains("gate one digest at a time"));
    }

    [Test]
    public void Missing_scan_fails_once_a_max_age_is_configured()
    {
        var report = PromotionGates.Evaluate(Inputs() with { Scan = null }, new FixedClock(Now));
        Assert.That(report.FailedGates.Single().Gate, Is.EqualTo("scan"));
    }
}
