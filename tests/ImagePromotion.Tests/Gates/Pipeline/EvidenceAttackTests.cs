using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Execution;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Pipeline.Steps;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;
using ImagePromotion.Tests.Evidence;
using ImagePromotion.Tests.Scanning;

namespace ImagePromotion.Tests.Gates.Pipeline;

/// <summary>
/// Issue 10's story against real registries: an attacker with the push rights every development job has tries to get an
/// image whose layers carry a PEM private key and an AWS secret (its real scan failed: critical 2) into production. Each
/// variant is refused by PromoteProduction's gates, whose table names the forged piece and why it did not count.
/// </summary>
[TestFixture]
public sealed class EvidenceAttackTests
{
    private PipelineSandbox _sandbox = null!;
    private int _n;

    private const string ScanConfig = """
        scan:
          scanners: []
          thresholds: { critical: 0, high: 0 }
          rules: { missing-source-label: info, missing-revision-label: info, no-healthcheck: info, root-user: info }
        """;

    // What an attacker's own configuration (or a dev branch's) says: the secret rules off, no thresholds.
    private const string PermissiveScan = """
        scan:
          scanners: []
          thresholds: {}
          rules: { private-key: off, aws-secret-access-key: off, aws-access-key-id: off, missing-source-label: off, missing-revision-label: off, no-healthcheck: off, root-user: off }
        """;

    private const string Gates = """
            gates:
              scan: { maxAge: 1h }
              staging: { window: 0s }
              policy:
                failCondition: 'scan.critical > 0'
              lock: { locked: false }
        """;

    [OneTimeSetUp]
    public async Task Start() => _sandbox = await PipelineSandbox.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _sandbox.DisposeAsync();

    private string Yaml(string repository) => _sandbox.Yaml(ScanConfig, Gates, repository);

    /// <summary>The leaky image pushed, scanned for real (failed, signed by the scan key) and, unless <paramref name="stage"/> is false, promoted to staging by the pipeline.</summary>
    private async Task<(string Repository, Digest Digest, ScanOutcome RealScan)> LeakyImageAsync(bool stage = true)
    {
        var repository = $"team/leaky{Interlocked.Increment(ref _n)}";
        var layer = new LayerBuilder().File("srv/www/index.html", "<h1>" + Guid.NewGuid() + "</h1>")
            .File("root/.ssh/id_rsa", FakeSecrets.PemKey).File("app/.env", "aws_secret_access_key = " + FakeSecrets.AwsSecretKey);
        var digest = await PipelineSandbox.PushImageAsync(_sandbox.Dev, repository, "git-" + PipelineSandbox.Commit[..12], layer);
        using var session = _sandbox.Session(Yaml(repository), identity: "ci-bot");
        await PipelineSandbox.RecordPushAsync(session, digest);
        var real = await new ScanImage(session).RunAsync(PipelineSandbox.DevReference(session), CancellationToken.None, "/nonexistent");
        Assert.That(real.Result.Passed, Is.False);
        Assert.That(real.Result.Counts.Critical, Is.EqualTo(2), real.Result.ToSummary(10));
        if (stage) Assert.That((await PipelineSandbox.PromoteAsync(session, "staging")).Refused, Is.False);
        return (repository, digest, real);
    }

    /// <summary>PromoteProduction as the production job runs it: public keys only in trust, the reviewed file.</summary>
    private async Task<ReleaseOutcome> PromoteProductionAsync(string repository)
    {
        using var session = _sandbox.Session(Yaml(repository), identity: "release-manager");
        var outcome = await PipelineSandbox.PromoteAsync(session, "production");
        TestContext.Out.WriteLine(outcome.Gates!.ToTable());
        return outcome;
    }

    private async Task AssertNothingInProductionAsync(string repository, Digest digest)
    {
        using var raw = _sandbox.Prod.CreateClient();
        Assert.That(await raw.HeadManifestAsync(repository, "production"), Is.Null, "production tag never written");
        Assert.That(await raw.HeadManifestAsync(repository, digest.ToString()), Is.Null, "nothing of the candidate reached production");
    }

    private static byte[] PassingScan(Digest digest, DateTimeOffset at) => new ScanResult
    {
        ImageDigest = digest.ToString(), ScannedAt = at, Passed = true, Reasons = [], ScannersRun = [new ScannerRun("builtin-secrets", true, 0), new ScannerRun("builtin-config", true, 0)],
        ScannersSkipped = [], Counts = new SeverityCounts(), Findings = [],
        Judgement = ScanJudgement.Of(ScanPolicy.Default, BuiltInRuleSettings.Default, []),
    }.ToJsonBytes();

    [Test]
    public async Task Forged_unsigned_scan_pass_and_staging_record_with_a_hand_moved_staging_tag_are_ignored_and_named()
    {
        var (repository, digest, real) = await LeakyImageAsync(stage: false);
        using var transport = EvidenceStoreTests.Transport(_sandbox.Dev);
        var pinned = ImageReference.Parse($"{_sandbox.Dev.Host}/{repository}@{digest}");
        // The attacker: a "scan passed" a minute after the real one, a "promotion to staging" two days old, the staging tag moved by hand.
        await new EvidenceStore(transport, new Logging.MemoryLog()).AttachAsync(pinned, EvidenceKind.ScanResult, PassingScan(digest, real.Result.ScannedAt.AddMinutes(1)), null, null, CancellationToken.None);
        await LegacyEvidence.AttachAsync(transport, pinned, EvidenceTypes.PromotionRecord, new PromotionRecord
        {
            Kind = "promotion", Outcome = "promoted", Service = "app", Digest = digest.ToString(), From = "dev", To = "staging",
            ToReference = $"{_sandbox.Dev.Host}/{repository}:staging", Who = "release-manager", When = DateTimeOffset.UtcNow.AddDays(-2),
        }.ToJsonBytes());
        using (var raw = _sandbox.Dev.CreateClient())
        {
            var manifest = (await raw.GetManifestAsync(repository, digest.ToString()))!;
            await raw.PushManifestAsync(repository, "staging", manifest.MediaType, manifest.Bytes);
        }

        var outcome = await PromoteProductionAsync(repository);

        Assert.That(outcome.Refused, Is.True);
        Assert.That(outcome.Gates!.FailedGates.Select(g => g.Gate), Is.EquivalentTo(new[] { "conditions", "staging", "scan" }));
        var scan = outcome.Gates.Results.Single(g => g.Gate == "scan").Reason;
        Assert.That(scan, Does.Contain("trusted scan").And.Contain("failed").And.Contain("critical: 2 findings"), "the real, signed failure decides");
        Assert.That(scan, Does.Contain("ignored 1: scan result is unsigned about " + digest));
        var staging = outcome.Gates.Results.Single(g => g.Gate == "staging").Reason;
        Assert.That(staging, Does.Contain("has no rollout record").And.Contain("unsigned promotion record written by an earlier version"));
        await AssertNothingInProductionAsync(repository, digest);
    }

    [Test]
    public async Task A_pass_from_the_pipelines_own_Scan_with_a_permissive_configuration_and_the_attackers_key_is_untrusted()
    {
        var (repository, digest, _) = await LeakyImageAsync();
        using var attackerKeys = new Evidence.Signing.TestKeys();
        var (pair, _) = KeyPairs.Ensure(attackerKeys.Directory, KeyRole.Scan);
        using (var attacker = _sandbox.Session(_sandbox.Yaml(PermissiveScan, "", repository), identity: "mallory",
                   environment: new Dictionary<string, string?> { [EvidenceSigners.FileVariable(KeyRole.Scan)] = pair.PrivateKeyPath }))
        {
            var forged = await new ScanImage(attacker).RunAsync(PipelineSandbox.DevReference(attacker), CancellationToken.None, "/nonexistent");
            Assert.That(forged.Result.Passed, Is.True, "the attacker's own scan passes: its rules are off");
        }

        var outcome = await PromoteProductionAsync(repository);

        Assert.That(outcome.Refused, Is.True);
        var scan = outcome.Gates!.Results.Single(g => g.Gate == "scan");
        Assert.That(scan.Passed, Is.False);
        Assert.That(scan.Reason, Does.Contain($"signed by key {pair.KeyId}, which is not trusted for scan results"));
        Assert.That(outcome.Gates.Results.Single(g => g.Gate == "staging").Passed, Is.True, "the legitimate staging history still counts");
        await AssertNothingInProductionAsync(repository, digest);
    }

    [Test]
    public async Task A_trusted_passing_scan_of_another_image_replayed_onto_this_digest_is_refused_as_another_subject()
    {
        var (repository, digest, _) = await LeakyImageAsync();
        var clean = await PipelineSandbox.PushImageAsync(_sandbox.Dev, repository, "clean", new LayerBuilder().File("srv/www/index.html", "clean"));
        using (var session = _sandbox.Session(Yaml(repository)))
            Assert.That((await new ScanImage(session).RunAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/{repository}:clean"), CancellationToken.None, "/nonexistent")).Result.Passed, Is.True);
        using var transport = EvidenceStoreTests.Transport(_sandbox.Dev);
        var referrers = new ReferrersClient(transport, _sandbox.Dev.Host);
        var trustedElsewhere = (await new EvidenceStore(transport, new Logging.MemoryLog()).ListAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/{repository}@{clean}"), EvidenceKind.ScanResult, CancellationToken.None)).Single();
        var replayed = await referrers.Client.GetManifestAsync(repository, trustedElsewhere.Manifest.Digest.ToString(), trustedElsewhere.Manifest.Digest, CancellationToken.None);
        await referrers.AddToFallbackAsync(repository, digest, [EvidenceArtifact.ReferrerDescriptor(replayed!)], CancellationToken.None);

        var outcome = await PromoteProductionAsync(repository);

        Assert.That(outcome.Refused, Is.True);
        var scan = outcome.Gates!.Results.Single(g => g.Gate == "scan");
        Assert.That(scan.Passed, Is.False);
        Assert.That(scan.Reason, Does.Contain("ignored 1:").And.Contain(clean.ToString()), "the replayed piece is named with the digest it is really about");
        await AssertNothingInProductionAsync(repository, digest);
    }

    [Test]
    public async Task A_scan_signed_with_the_trusted_key_but_judged_with_rules_switched_off_does_not_pass_production()
    {
        var (repository, digest, _) = await LeakyImageAsync();
        // The scan job itself, run from a branch whose promotion.yaml switches the secret rules off: the trusted key signs it.
        using (var scanJob = _sandbox.Session(_sandbox.Yaml(PermissiveScan, "", repository), identity: "ci-bot"))
        {
            var permissive = await new ScanImage(scanJob).RunAsync(PipelineSandbox.DevReference(scanJob), CancellationToken.None, "/nonexistent");
            Assert.That(permissive.Result.Passed, Is.True);
            Assert.That(permissive.Result.Judgement!.Rules["private-key"], Is.EqualTo("off"), "the result records the rules that judged it");
        }

        var outcome = await PromoteProductionAsync(repository);

        Assert.That(outcome.Refused, Is.True);
        var scan = outcome.Gates!.Results.Single(g => g.Gate == "scan");
        Assert.That(scan.Passed, Is.False);
        Assert.That(scan.Reason, Does.Contain("rule private-key was off when the image was scanned").And.Contain("counts it as critical"));
        Assert.That(outcome.Gates.Results.Single(g => g.Gate == "conditions").Passed, Is.False, "its counts are no facts for scan.critical either");
        await AssertNothingInProductionAsync(repository, digest);
    }

    [Test]
    public void Emptied_or_overridden_gates_are_refused_before_anything_runs()
    {
        var yaml = Yaml("team/empty");
        var ex = Assert.Throws<PromotionException>(() => _sandbox.Session(yaml, overrides: new Dictionary<string, string> { ["environments.production.gates"] = "" }));
        Assert.That(ex!.Message, Does.StartWith("--set environments.production.gates: gate settings (environments.production.gates) cannot be overridden"));
        ex = Assert.Throws<PromotionException>(() => _sandbox.Session(yaml, environment: new Dictionary<string, string?> { ["PROMOTION__environments__production__gates"] = "" }));
        Assert.That(ex!.Message, Does.StartWith("the environment variable PROMOTION__environments__production__gates: gate settings"));
        ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml(ScanConfig, "    gates:\n", "team/empty")));
        Assert.That(ex!.Message, Does.Contain("promotion.yaml:").And.Contain("'environments.production.gates' is empty").And.Contain("remove the key"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public async Task A_newer_trusted_failure_outvotes_an_older_trusted_pass_and_the_scan_table_says_trusted()
    {
        var (repository, digest, real) = await LeakyImageAsync();
        using var transport = EvidenceStoreTests.Transport(_sandbox.Dev);
        using var session = _sandbox.Session(Yaml(repository));
        // An older pass signed with the trusted scan key (a scan before the secret was added, say): the newer failure decides.
        await new EvidenceStore(transport, new Logging.MemoryLog(), signers: session.Signers).AttachAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/{repository}@{digest}"),
            EvidenceKind.ScanResult, PassingScan(digest, real.Result.ScannedAt.AddMinutes(-10)), null, null, CancellationToken.None);

        var outcome = await PromoteProductionAsync(repository);

        var scan = outcome.Gates!.Results.Single(g => g.Gate == "scan");
        Assert.That(scan.Passed, Is.False);
        Assert.That(scan.Reason, Does.StartWith("trusted scan by builtin-config+builtin-secrets of " + digest).And.Not.Contain("ignored"));
        await AssertNothingInProductionAsync(repository, digest);
    }

    [Test]
    public async Task A_production_without_a_gates_key_says_no_gates_configured()
    {
        var repository = $"team/ungated{Interlocked.Increment(ref _n)}";
        var digest = await _sandbox.PushCleanDevImageAsync(repository);
        using var session = _sandbox.Session(_sandbox.Yaml(ScanConfig, "", repository));
        await PipelineSandbox.PromoteAsync(session, "staging");
        var staged = _sandbox.Log.Lines.ToArray();
        var outcome = await PipelineSandbox.PromoteAsync(session, "production");

        Assert.That(outcome.Refused, Is.False);
        Assert.That(staged, Has.Some.StartsWith($"info: gates for dev -> staging of {digest}: no gates configured (environments.staging has no gates key"));
        Assert.That(_sandbox.Log.Lines, Has.Some.StartsWith($"warning: gates for staging -> production of {digest}: no gates configured")
            .And.Some.Contains("nothing is checked before this release environment changes"));
    }

    [Test]
    public async Task A_forged_piece_whose_key_hint_carries_workflow_commands_and_markdown_never_acts_in_the_gate_table_or_summary()
    {
        var (repository, digest, _) = await LeakyImageAsync();
        using var keys = new Evidence.Signing.TestKeys();
        using var attacker = keys.Generate(KeyRole.Scan, "mallory");
        var pinned = ImageReference.Parse($"{_sandbox.Dev.Host}/{repository}@{digest}");
        var evil = $"x\n::add-mask::{digest}\r::stop-commands::t\n::notice title=Approved::ok [Approved](https://evil.example/a)";
        var bundle = attacker.SignStatement(InTotoStatement.About(pinned, EvidenceKind.ScanResult, PassingScan(digest, DateTimeOffset.UtcNow))) with { KeyHint = evil };
        using var transport = EvidenceStoreTests.Transport(_sandbox.Dev);
        await LegacyEvidence.AttachAsync(transport, pinned, EvidenceTypes.Bundle, bundle.ToJsonBytes(), new Dictionary<string, string>
        {
            [EvidenceAnnotations.BundleContent] = "dsse-envelope", [EvidenceAnnotations.BundlePredicateType] = EvidenceKind.ScanResult.PredicateType,
        });

        var outcome = await PromoteProductionAsync(repository);

        var scan = outcome.Gates!.Results.Single(g => g.Gate == "scan");
        Assert.That(scan.Passed, Is.False);
        Assert.That(scan.Reason, Does.Contain("signed by key x\\n::add-mask::").And.Not.Contain("\n::"), "the hint's line breaks are escaped");
        Assert.That(outcome.Gates.ToTable().Split('\n'), Has.None.Matches<string>(l => l.TrimStart().StartsWith("::", StringComparison.Ordinal)));
        var markdown = outcome.Record.ToMarkdown();
        Assert.That(markdown, Does.Not.Contain("[Approved](https://evil.example/a)"), "the hint's Markdown link stays text in the step summary");
    }
}
