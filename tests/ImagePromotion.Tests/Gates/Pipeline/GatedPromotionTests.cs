using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Pipeline.Steps;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Evidence;
using ImagePromotion.Tests.GitOps.Git;
using ImagePromotion.Tests.Servers.GitHub;

namespace ImagePromotion.Tests.Gates.Pipeline;

/// <summary>PromoteProduction's gates end to end: real registries, evidence in them, a real git remote behind the GitHub test server.</summary>
[TestFixture]
public sealed class GatedPromotionTests
{
    private PipelineSandbox _sandbox = null!;
    private int _n;

    private const string Scan = """
        scan:
          scanners: []
          thresholds: { critical: 0, high: 0 }
          rules: { missing-source-label: info, missing-revision-label: info, no-healthcheck: info }
        """;

    private const string Gates = """
            gates:
              scan: { maxAge: 1h }
              staging: { window: 0s }
              policy:
                passCondition: 'labels["app"] == "shop"'
                failCondition: 'scan.critical > 0'
              lock: { locked: false }
        """;

    [OneTimeSetUp]
    public async Task Start() => _sandbox = await PipelineSandbox.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _sandbox.DisposeAsync();

    private string NewRepository() => $"team/app{Interlocked.Increment(ref _n)}";

    /// <summary>Push, scan and promote to staging: what precedes PromoteProduction.</summary>
    private async Task<Digest> UpToStagingAsync(string repository, string yaml, bool scan = true)
    {
        var digest = await PipelineSandbox.PushImageAsync(_sandbox.Dev, repository, "git-" + PipelineSandbox.Commit[..12],
            new Scanning.LayerBuilder().File("srv/www/index.html", "<h1>" + Guid.NewGuid() + "</h1>"), labels: new Dictionary<string, string> { ["app"] = "shop" });
        using var session = _sandbox.Session(yaml, identity: "builder-bot");
        if (scan) await new ScanImage(session).RunAsync(new ImagePromotion.Pipeline.Model.ReleaseSelection(), CancellationToken.None, "/nonexistent");
        var staged = await PipelineSandbox.PromoteAsync(session, "staging");
        Assert.That(staged.Refused, Is.False);
        return digest;
    }

    private async Task<Digest?> ProductionDigestAsync(string repository)
    {
        using var raw = _sandbox.Prod.CreateClient();
        return (await raw.HeadManifestAsync(repository, "production"))?.Digest;
    }

    [Test]
    public async Task Every_gate_passes_the_image_is_promoted_with_its_evidence_and_the_record_verifies_from_a_new_transport()
    {
        var repository = NewRepository();
        var yaml = _sandbox.Yaml(Scan, Gates, repository);
        var digest = await UpToStagingAsync(repository, yaml);

        using var session = _sandbox.Session(yaml, identity: "ada");
        var outcome = await PipelineSandbox.PromoteAsync(session, "production");

        Assert.That(outcome.Refused, Is.False, outcome.Gates?.ToTable());
        Assert.That(outcome.Gates!.Results.Select(g => g.Gate), Is.EquivalentTo(new[] { "conditions", "promotion-path", "environment-lock", "staging", "scan" }));
        Assert.That(await ProductionDigestAsync(repository), Is.EqualTo(digest));
        Assert.That(outcome.Record.Who, Is.EqualTo("ada"));
        Assert.That(outcome.Record.Gates, Has.All.Matches<GateRecord>(g => g.Passed));

        var journal = File.ReadAllLines(Path.Combine(_sandbox.Directory, "artifacts", "promotions.jsonl"))
            .Select(l => PromotionRecord.FromJson(System.Text.Encoding.UTF8.GetBytes(l))).Where(r => r.Digest == digest.ToString()).ToArray();
        Assert.That(journal.Select(r => (r.Kind, r.To)), Is.EqualTo(new[] { ("promotion", "staging"), ("promotion", "production") }));

        using var fresh = EvidenceStoreTests.Transport(_sandbox.Prod);
        var inspection = await new EvidenceInspector(fresh, new Logging.MemoryLog())
            .InspectAsync(ImageReference.Parse($"{_sandbox.Prod.Host}/{repository}:production"), TrustedKeys.None, "", CancellationToken.None);
        Assert.That(inspection.Failed, Is.Empty);
        var kinds = inspection.Pieces.Select(p => p.Entry.Kind).ToArray();
        Assert.That(kinds.Count(k => k == ImagePromotion.Evidence.Attestations.EvidenceKind.ScanResult), Is.EqualTo(1), "the scan travelled with the digest");
        var records = inspection.Pieces.Where(p => p.Entry.Kind == ImagePromotion.Evidence.Attestations.EvidenceKind.PromotionRecord)
            .Select(p => PromotionRecord.FromJson(p.Predicate!)).ToArray();
        Assert.That(records.Select(r => r.To), Is.EquivalentTo(new[] { "staging", "production" }));
        Assert.That(records.Single(r => r.To == "production").Gates, Has.Count.EqualTo(5));
    }

    [Test]
    public async Task A_locked_environment_refuses_names_every_failing_gate_and_leaves_production_as_it_was()
    {
        var repository = NewRepository();
        var before = await TestImagesProdAsync(repository);
        var yaml = _sandbox.Yaml(Scan, Gates, repository);
        var digest = await UpToStagingAsync(repository, yaml, scan: false);

        // Locked in the file (gate settings are never overridden from the command line or the environment).
        using var session = _sandbox.Session(yaml.Replace("lock: { locked: false }", "lock: { locked: true, reason: \"incident 42\" }"));
        var outcome = await PipelineSandbox.PromoteAsync(session, "production");

        Assert.That(outcome.Refused, Is.True);
        // No scan: the scan gate fails, and so does the policy whose fail condition reads scan counts (unknown is never a pass).
        Assert.That(outcome.Gates!.FailedGates.Select(g => g.Gate), Is.EquivalentTo(new[] { "conditions", "environment-lock", "scan" }));
        var ex = Assert.Throws<PromotionException>(() => outcome.ThrowIfRefused());
        Assert.That(ex!.Message, Does.Contain("environment-lock (production is locked: incident 42)").And.Contain("scan (no trusted scan result for " + digest));
        Assert.That(await ProductionDigestAsync(repository), Is.EqualTo(before), "production tag unchanged");
        using var raw = _sandbox.Prod.CreateClient();
        Assert.That(await raw.HeadManifestAsync(repository, digest.ToString()), Is.Null, "nothing of the candidate reached production");
        Assert.That(await raw.HeadManifestAsync(repository, "sha256-" + digest.Encoded), Is.Null, "no evidence written to production");
    }

    private async Task<Digest> TestImagesProdAsync(string repository) =>
        (await Infrastructure.TestImages.PushRandomImageAsync(_sandbox.Prod, repository, "production")).Digest;

    [Test]
    public async Task The_fail_condition_wins_over_the_pass_condition()
    {
        var repository = NewRepository();
        var yaml = _sandbox.Yaml(Scan, Gates.Replace("failCondition: 'scan.critical > 0'", "failCondition: 'labels[\"app\"] == \"shop\" && size(tags) > 0'"), repository);
        await UpToStagingAsync(repository, yaml);
        using var session = _sandbox.Session(yaml);

        var outcome = await PipelineSandbox.PromoteAsync(session, "production");

        Assert.That(outcome.Refused, Is.True);
        Assert.That(outcome.Gates!.FailedGates.Single().Reason, Does.Contain("matches failCondition").And.Contain("fail wins"));
        Assert.That(await ProductionDigestAsync(repository), Is.Null);
    }

    [Test]
    public async Task A_digest_that_staging_no_longer_runs_is_refused()
    {
        var repository = NewRepository();
        var yaml = _sandbox.Yaml(Scan, Gates, repository);
        var old = await UpToStagingAsync(repository, yaml);
        // A newer build replaces it in staging (same commit tag is immutable: use a digest promotion).
        var newer = await PipelineSandbox.PushImageAsync(_sandbox.Dev, repository, "other", new Scanning.LayerBuilder().File("x", "y"), labels: new Dictionary<string, string> { ["app"] = "shop" });
        using (var s = _sandbox.Session(yaml))
            await PipelineSandbox.PromoteAsync(s, "staging", "dev", newer);

        using var session = _sandbox.Session(yaml);
        var outcome = await PipelineSandbox.PromoteAsync(session, "production", "staging", old);

        Assert.That(outcome.Gates!.FailedGates.Select(g => g.Gate), Does.Contain("staging"));
        Assert.That(outcome.Gates.FailedGates.Single(g => g.Gate == "staging").Reason, Does.Contain("no longer what staging runs"));
    }

    [Test]
    public async Task A_staging_tag_moved_without_a_record_is_vouched_for_by_the_next_staging_run()
    {
        var repository = NewRepository();
        var yaml = _sandbox.Yaml(Scan, Gates, repository);
        var digest = await PipelineSandbox.PushImageAsync(_sandbox.Dev, repository, "git-" + PipelineSandbox.Commit[..12],
            new Scanning.LayerBuilder().File("a", "b"), labels: new Dictionary<string, string> { ["app"] = "shop" });
        using (var raw = _sandbox.Dev.CreateClient())
        {
            var manifest = (await raw.GetManifestAsync(repository, digest.ToString()))!;
            await raw.PushManifestAsync(repository, "staging", manifest.MediaType, manifest.Bytes); // by hand, as before records existed
        }
        using (var s = _sandbox.Session(yaml)) await new ScanImage(s).RunAsync(new ImagePromotion.Pipeline.Model.ReleaseSelection(), CancellationToken.None, "/nonexistent");
        using (var s = _sandbox.Session(yaml))
            Assert.That((await PipelineSandbox.PromoteAsync(s, "production"))
                .Gates!.FailedGates.Single().Reason, Does.Contain("has no rollout record"));

        using (var s = _sandbox.Session(yaml))
        {
            var staged = await PipelineSandbox.PromoteAsync(s, "staging");
            Assert.That(staged.Record.Outcome, Is.EqualTo("up-to-date"));
        }
        using (var s = _sandbox.Session(yaml))
            Assert.That((await PipelineSandbox.PromoteAsync(s, "production")).Refused, Is.False);
        using (var s = _sandbox.Session(yaml))
        {
            await PipelineSandbox.PromoteAsync(s, "staging");
            var records = await new PromotionRecorder(s).ReadAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/{repository}@{digest}"), CancellationToken.None);
            Assert.That(records.Count(r => r.To == "staging"), Is.EqualTo(1), "one record, not one per re-run");
        }
    }

    [Test]
    public async Task Direct_promotion_skipping_staging_needs_the_policy_to_allow_it()
    {
        var repository = NewRepository();
        var yaml = _sandbox.Yaml(Scan, Gates, repository);
        var digest = await PipelineSandbox.PushImageAsync(_sandbox.Dev, repository, "git-" + PipelineSandbox.Commit[..12],
            new Scanning.LayerBuilder().File("hotfix", "1"), labels: new Dictionary<string, string> { ["app"] = "shop" });
        using (var s = _sandbox.Session(yaml)) await new ScanImage(s).RunAsync(new ImagePromotion.Pipeline.Model.ReleaseSelection(), CancellationToken.None, "/nonexistent");

        using (var session = _sandbox.Session(yaml))
        {
            var refused = await PipelineSandbox.PromoteAsync(session, "production", "dev");
            Assert.That(refused.Gates!.FailedGates.Select(g => g.Gate), Does.Contain("promotion-path"));
            Assert.That(refused.Gates.FailedGates.Single(g => g.Gate == "promotion-path").Reason, Does.Contain("skips staging"));
        }
        var hotfixYaml = _sandbox.Yaml(Scan, Gates.Replace("failCondition: 'scan.critical > 0'", "failCondition: 'scan.critical > 0'\n        allowDirectPromotion: true"), repository);
        using (var session = _sandbox.Session(hotfixYaml))
        {
            var hotfix = await PipelineSandbox.PromoteAsync(session, "production", "dev");
            Assert.That(hotfix.Refused, Is.False, hotfix.Gates?.ToTable());
            Assert.That(hotfix.Gates!.Results.Select(g => g.Gate), Does.Not.Contain("staging"), "the hotfix path skips staging's history");
            Assert.That(await ProductionDigestAsync(repository), Is.EqualTo(digest));
        }
    }

    [Test]
    public async Task An_active_freeze_window_refuses_by_name()
    {
        var repository = NewRepository();
        var frozen = Gates + "\n      freeze: [{ name: always, timeZone: Europe/Berlin, days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], start: \"00:00\", end: \"00:00\" }]\n";
        var yaml = _sandbox.Yaml(Scan, frozen, repository);
        await UpToStagingAsync(repository, yaml);
        using var session = _sandbox.Session(yaml);

        var outcome = await PipelineSandbox.PromoteAsync(session, "production");

        Assert.That(outcome.Gates!.FailedGates.Select(g => g.Gate), Is.EqualTo(new[] { "freeze-window" }));
        Assert.That(outcome.Gates.FailedGates[0].Reason, Does.Contain("'always'").And.Contain("Europe/Berlin"));
        Assert.That(await ProductionDigestAsync(repository), Is.Null);
    }

    [Test]
    public void A_gates_section_with_an_unknown_key_or_bad_cel_is_a_one_line_error()
    {
        var ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml("", Gates.Replace("lock: { locked: false }", "lok: { locked: true }"))));
        Assert.That(ex!.Message, Does.Contain("unknown key 'environments.production.gates.lok'"));
        ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml("", Gates.Replace("'scan.critical > 0'", "'scan.critical >'"))));
        Assert.That(ex!.Message, Does.Contain("environments.production.gates").And.Contain("failCondition"));
        ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml("", Gates.Replace("scan: { maxAge: 1h }", "scan: { maxAge: soon }"))));
        Assert.That(ex!.Message, Does.Contain("'environments.production.gates.scan.maxAge' is 'soon'"));
    }
}
