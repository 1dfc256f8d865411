using ImagePromotion.Evidence;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Steps;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;
using ImagePromotion.Tests.Evidence;
using ImagePromotion.Tests.Scanning;

namespace ImagePromotion.Tests.Gates.Pipeline;

[TestFixture]
public sealed class ScanPhaseTests
{
    private PipelineSandbox _sandbox = null!;
    private string _emptyPath = null!;

    private const string ScanConfig = """
        scan:
          scanners: []
          thresholds: { critical: 0, high: 0 }
          rules: { missing-source-label: info, missing-revision-label: info, no-healthcheck: info }
        """;

    [OneTimeSetUp]
    public async Task Start()
    {
        _sandbox = await PipelineSandbox.StartAsync();
        _emptyPath = System.IO.Directory.CreateTempSubdirectory("no-scanners-").FullName;
    }

    [OneTimeTearDown]
    public async Task Stop() => await _sandbox.DisposeAsync();

    [Test]
    public async Task A_clean_image_passes_and_its_result_is_attached_to_the_digest()
    {
        var digest = await _sandbox.PushCleanDevImageAsync("team/clean");
        using var session = _sandbox.Session(_sandbox.Yaml(ScanConfig, repository: "team/clean"));

        var outcome = (await new ScanImage(session).RunAsync(new ImagePromotion.Pipeline.Model.ReleaseSelection(), CancellationToken.None, _emptyPath)).Single();

        Assert.That(outcome.Result.Passed, Is.True, string.Join("; ", outcome.Result.Reasons));
        Assert.That(outcome.Image.Digest, Is.EqualTo(digest));
        Assert.That(outcome.Result.ScannersRun.Select(r => r.Name), Is.SupersetOf(new[] { ImageScan.ConfigCheck, ImageScan.SecretsCheck }));
        Assert.DoesNotThrow(() => ScanImage.ThrowIfFailed(outcome));

        // A new transport (another job) finds the result on the digest and it verifies.
        using var transport = EvidenceStoreTests.Transport(_sandbox.Dev);
        var store = new EvidenceStore(transport, new Logging.MemoryLog());
        var pinned = ImageReference.Parse($"{_sandbox.Dev.Host}/team/clean@{digest}");
        var scans = await store.ReadVerifiedAsync(pinned, EvidenceTypes.ScanResult, CancellationToken.None);
        Assert.That(scans, Has.Count.EqualTo(1));
        Assert.That(ScanResult.FromJson(scans[0].Content!).ImageDigest, Is.EqualTo(digest.ToString()));
    }

    [Test]
    public async Task Scanning_again_under_the_same_rules_with_the_same_key_attaches_nothing_and_says_so()
    {
        var digest = await _sandbox.PushCleanDevImageAsync("team/again", "v1");
        var reference = ImageReference.Parse($"{_sandbox.Dev.Host}/team/again:v1");
        var pinned = reference.WithDigest(digest);
        using var transport = EvidenceStoreTests.Transport(_sandbox.Dev);
        async Task<int> ScansAsync() => (await new EvidenceStore(transport, new Logging.MemoryLog()).ListAsync(pinned, ImagePromotion.Evidence.Attestations.EvidenceKind.ScanResult, CancellationToken.None)).Count;

        Descriptor first;
        using (var session = _sandbox.Session(_sandbox.Yaml(ScanConfig, repository: "team/again")))
            first = (await new ScanImage(session).RunAsync(reference, CancellationToken.None, _emptyPath)).Evidence!;
        using (var session = _sandbox.Session(_sandbox.Yaml(ScanConfig, repository: "team/again")))
        {
            var again = await new ScanImage(session).RunAsync(reference, CancellationToken.None, _emptyPath);
            Assert.That(again.Reused, Is.True);
            Assert.That(again.Evidence!.Digest, Is.EqualTo(first.Digest));
            Assert.That(_sandbox.Log.Lines, Has.Some.Contains($"already has a passing scan result signed by key").And.Some.Contains("nothing scanned, nothing attached"));
        }
        Assert.That(await ScansAsync(), Is.EqualTo(1));

        // Other rules: a new judgement is attached; and a job without the scan key cannot recognise its own result, so it scans.
        using (var session = _sandbox.Session(_sandbox.Yaml(ScanConfig.Replace("no-healthcheck: info", "no-healthcheck: low"), repository: "team/again")))
            Assert.That((await new ScanImage(session).RunAsync(reference, CancellationToken.None, _emptyPath)).Reused, Is.False);
        Assert.That(await ScansAsync(), Is.EqualTo(2));
        using (var session = _sandbox.Session(_sandbox.Yaml(ScanConfig, repository: "team/again"),
                   environment: new Dictionary<string, string?> { [ImagePromotion.Evidence.Signing.EvidenceSigners.FileVariable(ImagePromotion.Evidence.Attestations.KeyRole.Scan)] = "" }))
            Assert.That((await new ScanImage(session).RunAsync(reference, CancellationToken.None, _emptyPath)).Reused, Is.False);
        Assert.That(await ScansAsync(), Is.EqualTo(3));
    }

    [Test]
    public void The_sandbox_makes_its_key_pairs_once_and_never_overwrites_them()
    {
        var yaml = _sandbox.Yaml(repository: "team/keys") + "\nsandbox:\n  keys: sandbox-keys\n";
        var config = ImagePromotion.Configuration.ConfigLoader.Parse(yaml, Path.Combine(_sandbox.Directory, "promotion.yaml"), _sandbox.Directory);
        var sandbox = new ImagePromotion.Pipeline.Sandbox.LocalSandbox(config, new Logging.MemoryLog());
        sandbox.EnsureKeys();
        var dir = Path.Combine(_sandbox.Directory, "sandbox-keys");
        var before = Directory.GetFiles(dir).Order().ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        Assert.That(before.Keys, Is.EqualTo(new[] { "approval.key", "approval.pub", "build.key", "build.pub", "promotion.key", "promotion.pub", "scan.key", "scan.pub" }));
        sandbox.EnsureKeys();
        Assert.That(Directory.GetFiles(dir).Order().ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes), Is.EqualTo(before));
        // A job without PROMOTION_SIGNING_KEY_* variables signs with them.
        using var signers = new ImagePromotion.Evidence.Signing.EvidenceSigners(new Dictionary<string, string?>(), keysDirectory: dir);
        Assert.That(signers.For(ImagePromotion.Evidence.Attestations.KeyRole.Scan)!.KeyId,
            Is.EqualTo(ImagePromotion.Evidence.Signing.VerificationKey.FromFile(Path.Combine(dir, "scan.pub")).KeyId));
    }

    [Test]
    public async Task A_planted_private_key_fails_the_scan_and_the_failure_names_it()
    {
        var layer = new LayerBuilder().File("srv/www/index.html", "<h1>hi</h1>").File("root/.ssh/id_rsa", FakeSecrets.PemKey);
        var digest = await PipelineSandbox.PushImageAsync(_sandbox.Dev, "team/leaky", "v1", layer);
        using var session = _sandbox.Session(_sandbox.Yaml(ScanConfig, repository: "team/leaky"));

        var outcome = (await new ScanImage(session).RunAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/team/leaky:v1"), CancellationToken.None, _emptyPath))!;

        Assert.That(outcome.Result.Passed, Is.False);
        TestContext.Out.WriteLine(outcome.Result.ToSummary(20) + string.Join(",", outcome.Result.Findings.Select(f => f.Id + "@" + f.Path)));
        Assert.That(outcome.Result.Findings.Any(f => f.Id == "private-key" && f.Path!.EndsWith("root/.ssh/id_rsa")), Is.True);
        var ex = Assert.Throws<PromotionException>(() => ScanImage.ThrowIfFailed(outcome));
        Assert.That(ex!.Message, Does.Contain("FAILED").And.Contain("critical"));
        Assert.That(string.Join("\n", session.Log is Logging.MemoryLog m ? m.Lines : []), Does.Not.Contain(FakeSecrets.PemBody), "the secret is never printed");
        // The failed result is evidence too: a promotion gate must see it failed, not find nothing.
        using var transport = EvidenceStoreTests.Transport(_sandbox.Dev);
        var scans = await new EvidenceStore(transport, new Logging.MemoryLog()).ReadVerifiedAsync(outcome.Image.WithDigest(digest), EvidenceTypes.ScanResult, CancellationToken.None);
        Assert.That(ScanResult.FromJson(scans.Single().Content!).Passed, Is.False);
    }

    [Test]
    public async Task Without_scan_configuration_the_builtin_checks_run_and_missing_scanners_are_named_as_skipped()
    {
        await _sandbox.PushCleanDevImageAsync("team/noconf", "v1");
        using var session = _sandbox.Session(_sandbox.Yaml(repository: "team/noconf"));

        var outcome = (await new ScanImage(session).RunAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/team/noconf:v1"), CancellationToken.None, _emptyPath))!;

        Assert.That(outcome.Result.ScannersSkipped.Select(s => s.Name), Is.EquivalentTo(new[] { "trivy", "grype" }));
        Assert.That(outcome.Result.Passed, Is.True, "default thresholds block only critical findings");
        Assert.That(outcome.Result.Reasons, Has.Some.Contains("no vulnerability scanner ran"));
    }

    [Test]
    public async Task A_configured_scanner_that_is_not_installed_fails_the_scan()
    {
        await _sandbox.PushCleanDevImageAsync("team/required", "v1");
        using var session = _sandbox.Session(_sandbox.Yaml("scan:\n  scanners: [trivy]\n", repository: "team/required"));

        var outcome = (await new ScanImage(session).RunAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/team/required:v1"), CancellationToken.None, _emptyPath))!;

        Assert.That(outcome.Result.Passed, Is.False);
        Assert.That(outcome.Result.Reasons, Has.Some.Contains("scanner trivy failed").And.Some.Contains("not found on PATH"));
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_configured_scanner_report_is_read_and_its_thresholds_applied()
    {
        await _sandbox.PushCleanDevImageAsync("team/trivy", "v1");
        var bin = ScanCorpus.InstallScript("fake-trivy.sh", "trivy", "trivy-alpine.json");
        var yaml = _sandbox.Yaml("scan:\n  scanners: [trivy]\n  thresholds: { critical: 0 }\n", repository: "team/trivy");
        using var session = _sandbox.Session(yaml);

        var outcome = (await new ScanImage(session).RunAsync(ImageReference.Parse($"{_sandbox.Dev.Host}/team/trivy:v1"), CancellationToken.None, bin))!;

        TestContext.Out.WriteLine(outcome.Result.ToSummary());
        Assert.That(outcome.Result.ScannersRun.Single(r => r.Name == "trivy").Succeeded, Is.True);
        Assert.That(outcome.Result.Counts.Critical, Is.GreaterThan(0));
        Assert.That(outcome.Result.Passed, Is.False, "critical findings exceed the threshold of 0");
        var argv = File.ReadAllText(Path.Combine(bin, "argv.txt"));
        Assert.That(argv, Does.Contain($"{_sandbox.Dev.Host}/team/trivy@{outcome.Image.Digest}"), "the scanner scans the exact digest");
    }

    [Test]
    public void Unknown_keys_and_bad_values_in_the_scan_section_are_one_line_errors_naming_the_key()
    {
        var ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml("scan:\n  treshold: { critical: 0 }\n")));
        Assert.That(ex!.Message, Does.Contain("unknown key 'scan.treshold'"));
        ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml("scan:\n  allowlist:\n    - { id: CVE-1, reason: accepted }\n")));
        Assert.That(ex!.Message, Does.Contain("CVE-1").And.Contain("expires"));
        ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml("scan:\n  scanners: [clair]\n")));
        Assert.That(ex!.Message, Does.Contain("'scan.scanners' names 'clair'"));
    }
}
