using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

[TestFixture]
public sealed class ScanPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 30, 0, TimeSpan.Zero);

    // trivy-alpine.json: critical 3 (CVE-2024-5535 twice, the AWS secret), high 2, medium 1, low 1, unknown 1.
    private static IReadOnlyList<Finding> Findings => ScanReportParser.Parse(ScanCorpus.Bytes("trivy-alpine.json"), "trivy").Findings;

    private static ScanPolicy Policy(Dictionary<string, int> max, params AllowlistEntry[] allow) => ScanPolicy.Create(max, allow);

    [Test]
    public void Counts_within_every_threshold_pass()
    {
        var evaluation = Policy(new() { ["critical"] = 3, ["high"] = 5 }).Evaluate(Findings, Now);

        Assert.That(evaluation.Violations, Is.Empty);
        Assert.That(evaluation.Counts.Total, Is.EqualTo(8));
    }

    [Test]
    public void Counts_over_a_threshold_fail_with_the_numbers()
    {
        var evaluation = Policy(new() { ["critical"] = 0, ["high"] = 5, ["unknown"] = 0 }).Evaluate(Findings, Now);

        Assert.That(evaluation.Violations, Is.EqualTo(new[]
        {
            "critical: 3 findings, at most 0 allowed",
            "unknown: 1 findings, at most 0 allowed",
        }));
    }

    [Test]
    public void Active_allowlist_entry_does_not_count()
    {
        var evaluation = Policy(new() { ["critical"] = 1 },
                new AllowlistEntry("CVE-2024-5535", "no ALPN in this service", new DateOnly(2027, 1, 31)))
            .Evaluate(Findings, Now);

        Assert.That(evaluation.Violations, Is.Empty);
        Assert.That(evaluation.Counts.Critical, Is.EqualTo(1));
        Assert.That(evaluation.AllowlistedCount, Is.EqualTo(2));
        Assert.That(evaluation.Findings.Where(f => f.Allowlisted).Select(f => f.Package), Is.EquivalentTo(new[] { "libcrypto3", "libssl3" }));
        Assert.That(evaluation.Notes, Is.Empty);
    }

    [Test]
    public void Expired_allowlist_entry_counts_again_and_says_so()
    {
        var evaluation = Policy(new() { ["critical"] = 1 },
                new AllowlistEntry("cve-2024-5535", "no ALPN in this service", new DateOnly(2026, 11, 1)))
            .Evaluate(Findings, Now);

        Assert.That(evaluation.Counts.Critical, Is.EqualTo(3));
        Assert.That(evaluation.Violations, Is.EqualTo(new[] { "critical: 3 findings, at most 1 allowed" }));
        Assert.That(evaluation.Notes, Is.EqualTo(new[] { "allowlist entry cve-2024-5535 expired on 2026-11-01: counted (2 findings)" }));
    }

    [Test]
    public void Entry_expires_at_the_start_of_its_expiry_date_utc()
    {
        var entry = new AllowlistEntry("CVE-2024-4741", "r", new DateOnly(2026, 11, 24));

        Assert.That(entry.IsActive(new DateTimeOffset(2026, 11, 23, 23, 59, 59, TimeSpan.Zero)), Is.True);
        Assert.That(entry.IsActive(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)), Is.False);
        Assert.That(entry.IsActive(new DateTimeOffset(2026, 11, 24, 0, 30, 0, TimeSpan.FromHours(2))), Is.True, "22:30 UTC the day before");
    }

    [Test]
    public void Expired_entry_that_matches_nothing_asks_to_be_removed()
    {
        var evaluation = Policy(new(), new AllowlistEntry("CVE-2019-0001", "old", new DateOnly(2025, 1, 1))).Evaluate(Findings, Now);

        Assert.That(evaluation.Notes, Is.EqualTo(new[] { "allowlist entry CVE-2019-0001 expired on 2025-01-01 and matches nothing: remove it" }));
    }

    [TestCase("CVE-1", "", "2027-01-01", "entry CVE-1 has no reason")]
    [TestCase("CVE-1", "accepted", "31/01/2027", "entry CVE-1 has expires '31/01/2027'; give a date as yyyy-MM-dd")]
    [TestCase("CVE-1", "accepted", null, "every allowlist entry must expire")]
    [TestCase(" ", "accepted", "2027-01-01", "an entry has no id")]
    public void Allowlist_entry_from_configuration_is_validated(string id, string reason, string? expires, string expected)
    {
        var ex = Assert.Throws<PromotionException>(() => AllowlistEntry.Parse(id, reason, expires, "promotion.yaml scan.allowlist"));

        Assert.That(ex!.Message, Does.StartWith("promotion.yaml scan.allowlist: ").And.Contain(expected));
    }

    [Test]
    public void Thresholds_must_be_known_severities_and_not_negative()
    {
        Assert.That(Assert.Throws<PromotionException>(() => ScanPolicy.Create(new Dictionary<string, int> { ["severe"] = 1 }, null))!.Message,
            Does.Contain("unknown severity 'severe'"));
        Assert.That(Assert.Throws<PromotionException>(() => ScanPolicy.Create(new Dictionary<string, int> { ["high"] = -1 }, null))!.Message,
            Does.Contain("threshold for high is -1"));
        Assert.That(Assert.Throws<PromotionException>(() => ScanPolicy.Create(null,
            [new AllowlistEntry("CVE-1", "a", new DateOnly(2027, 1, 1)), new AllowlistEntry("cve-1", "b", new DateOnly(2027, 2, 1))]))!.Message,
            Does.Contain("allowlist has CVE-1 more than once"));
    }

    [Test]
    public void Default_policy_blocks_critical_only()
    {
        var evaluation = ScanPolicy.Default.Evaluate(Findings.Where(f => f.Severity != Severity.Critical), Now);

        Assert.That(evaluation.Violations, Is.Empty);
        Assert.That(ScanPolicy.Default.Evaluate(Findings, Now).Violations, Has.Count.EqualTo(1));
    }
}
