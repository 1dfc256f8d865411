using ImagePromotion.Configuration;
using ImagePromotion.Gates;
using ImagePromotion.Pipeline.Gating;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Tests.Gates;

/// <summary>
/// Every registered gate judged through the one interface, on facts given as data (what the registry and the
/// evidence would say): the registry decides which gates apply, in which order.
/// </summary>
[TestFixture]
public sealed class PromotionGatesTests
{
    private static readonly Digest Candidate = Digest.Sha256("release-1.4.2"u8);
    private static readonly DateTimeOffset Now = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero); // a Wednesday
    private static readonly ImageReference Staging = ImageReference.Parse("registry.example.com/team/app:staging");

    /// <summary>The facts of one image, as a registry and its evidence would report them.</summary>
    private sealed class Facts : IGateEvidence, IGateFacts
    {
        public DateTimeOffset? BuiltAt { get; init; } = Now.AddDays(-2);
        public List<ScanResult> Scans { get; } = [Scan(Now.AddHours(-2))];
        public List<PromotionRecord> Records { get; } =
        [
            Record("push", "dev", Now.AddDays(-2), "ci-bot"),
            Record("promotion", "staging", Now.AddHours(-30), "alice"),
        ];

        public Task<EvidenceReading<ScanResult>> ScanResultsAsync(ImageReference image, CancellationToken ct) =>
            Task.FromResult(new EvidenceReading<ScanResult>(image.Digest == Candidate ? Scans : [], []));
        public Task<EvidenceReading<PromotionRecord>> PromotionRecordsAsync(ImageReference image, CancellationToken ct) =>
            Task.FromResult(new EvidenceReading<PromotionRecord>(image.Digest == Candidate ? Records : [], []));
        public Task<ImageConfigFacts> ImageConfigAsync(ImageReference pinned, CancellationToken ct) =>
            Task.FromResult(new ImageConfigFacts(new Dictionary<string, string> { ["app"] = "shop" }, BuiltAt));
        public Task<Digest?> RunningDigestAsync(string environment, string image, CancellationToken ct) => Task.FromResult<Digest?>(Candidate);
        public ImageReference ReferenceOf(string environment, string image) => Staging;
    }

    private static ScanResult Scan(DateTimeOffset at) => new()
    {
        ImageDigest = Candidate.ToString(), ScannedAt = at, Passed = true, Reasons = [], ScannersRun = [new ScannerRun("trivy", true, 0)],
        ScannersSkipped = [], Counts = new SeverityCounts(), Findings = [],
    };

    private static PromotionRecord Record(string kind, string to, DateTimeOffset when, string who) => new()
    {
        Kind = kind, Outcome = "promoted", Service = "app", Digest = Candidate.ToString(), To = to, ToReference = Staging.ToString(),
        Who = who, When = when, Branch = "main",
    };

    private static GateContext Context(Facts facts, GateSettings? settings = null, DateTimeOffset? now = null) => new()
    {
        Application = "app", Kind = "promotion", From = "staging", To = "production", Chain = ["dev", "staging", "production"],
        Settings = settings ?? Settings(), Images = [new GateImage("app", Staging, Candidate)], Evidence = facts, Facts = facts,
        Reviews = new ApprovalRequest([new Review("bob", ReviewState.Approved, "c0ffee", Now.AddHours(-1))], "c0ffee", "alice", null, "release-bot"),
        Requester = "alice", Clock = new FixedClock(now ?? Now),
    };

    private static GateSettings Settings() => new()
    {
        Policy = new PromotionPolicy
        {
            Name = "prod",
            PassCondition = "imageAge >= duration('24h') && digest == image.digest && builtAt < now && labels.app == 'shop'",
            FailCondition = "scan.critical > 0",
            RequiredApprovals = 1,
            Approvers = ["bob"],
        },
        Lock = new EnvironmentLock(false),
        FreezeWindows = [new WeeklyFreezeWindow("weekend", "Europe/Berlin", [DayOfWeek.Saturday, DayOfWeek.Sunday], new TimeOnly(0, 0), new TimeOnly(0, 0))],
        Staging = new StagingCheck(null, TimeSpan.Zero, TimeSpan.FromHours(24)),
        ScanMaxAge = TimeSpan.FromDays(1),
    };

    private static async Task<GateReport> JudgeAsync(GateContext context) => new(await new GateJudge().JudgeAsync(context, [], CancellationToken.None));

    [Test]
    public async Task Compliant_promotion_passes_every_gate_in_registry_order()
    {
        var report = await JudgeAsync(Context(new Facts()));
        Assert.That(report.Results.Select(r => r.Gate), Is.EqualTo(new[]
            { "conditions", "promotion-path", "approvals", "environment-lock", "freeze-window", "staging", "scan" }));
        Assert.That(report.AllPassed, Is.True, report.ToTable());
        Assert.That(GateRegistry.All.Select(g => g.Name), Is.EqualTo(report.Results.Select(r => r.Gate)), "the registry is the order");
    }

    [Test]
    public async Task Image_age_is_derived_from_build_time_and_clock()
    {
        var report = await JudgeAsync(Context(new Facts { BuiltAt = Now.AddHours(-3) }));
        Assert.That(report.FailedGates.Select(g => g.Gate), Is.EqualTo(new[] { "conditions" }));
    }

    [Test]
    public async Task Several_failures_are_all_reported()
    {
        var facts = new Facts();
        facts.Scans[0] = Scan(Now.AddDays(-3));
        var report = await JudgeAsync(Context(facts, Settings() with { Lock = new EnvironmentLock(true, "INC-7") }, Now.AddDays(3))); // Saturday: weekend freeze too
        Assert.That(report.FailedGates.Select(g => g.Gate), Is.EqualTo(new[] { "environment-lock", "freeze-window", "scan" }));
        Assert.That(report.ToTable(), Does.Contain("production is locked: INC-7"));
    }

    [Test]
    public async Task Without_the_pull_requests_reviews_the_approvals_gate_waits_and_never_passes()
    {
        var report = await JudgeAsync(Context(new Facts()) with { Reviews = null });
        var approvals = report.Results.Single(r => r.Gate == "approvals");
        Assert.That(approvals.Pending, Is.True);
        Assert.That(approvals.Passed, Is.False);
        Assert.That(report.Refuses, Is.False, "waiting is not refusing");
        Assert.That(report.ToTable(), Does.Contain("WAIT    approvals"));
    }

    [Test]
    public async Task Missing_scan_fails_once_a_max_age_is_configured()
    {
        var facts = new Facts();
        facts.Scans.Clear();
        var report = await JudgeAsync(Context(facts, Settings() with { Policy = Settings().Policy with { FailCondition = null } }));
        Assert.That(report.FailedGates.Single().Gate, Is.EqualTo("scan"));
    }

    [Test]
    public async Task A_rollback_is_judged_only_by_the_gates_it_names()
    {
        var report = await JudgeAsync(Context(new Facts()) with { Kind = "rollback", OnlyKeys = ["lock", "approvals"] });
        Assert.That(report.Results.Select(r => r.Gate), Is.EqualTo(new[] { "approvals", "environment-lock" }));
    }

    [Test]
    public void Every_config_key_of_the_registry_is_a_key_the_configuration_accepts_for_rollbacks()
    {
        Assert.That(GateSettings.Names, Is.EquivalentTo(new[] { "policy", "approvals", "lock", "freeze", "staging", "scan" }));
        Assert.That(GateSettings.ReportNames("policy"), Is.EqualTo(new[] { "conditions", "promotion-path" }));
    }
}
