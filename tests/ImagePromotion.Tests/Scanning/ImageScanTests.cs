using System.Runtime.Versioning;
using System.Text;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

/// <summary>The whole Scan phase for one digest: config, layers, a real scanner process, policy, result JSON.</summary>
[TestFixture]
[Platform(Exclude = "Win", Reason = "the scanner stand-in is a POSIX shell script")]
[UnsupportedOSPlatform("windows")]
public sealed class ImageScanTests
{
    private static readonly FixedClock Clock = new(new DateTimeOffset(2026, 11, 23, 10, 30, 0, TimeSpan.Zero));
    private static readonly Digest ImageDigest = ScanCorpus.Image.Digest!.Value;
    private string? _dir;

    [TearDown]
    public void RemoveDirectory()
    {
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
        _dir = null;
    }

    private static readonly byte[] Config = Encoding.UTF8.GetBytes("""
        { "architecture": "amd64", "os": "linux",
          "config": { "User": "app", "Env": ["API_TOKEN=abc123def456"],
                      "Labels": { "org.opencontainers.image.source": "https://github.com/example/shop", "org.opencontainers.image.revision": "8f14e45f" } },
          "rootfs": { "type": "layers", "diff_ids": [] } }
        """);

    private static byte[] SecretLayer() => new LayerBuilder()
        .File("app/.env", $"NODE_ENV=production\nGITHUB_TOKEN={FakeSecrets.GitHubToken}\n")
        .File("etc/ssh/ssh_host_ed25519_key", "-----BEGIN " + "OPENSSH PRIVATE KEY-----\n" + FakeSecrets.PemBody + "\n")
        .TarGzip();

    private async Task<ScanResult> FullScan(ScanPolicy policy, IPipelineLog? log = null)
    {
        _dir = ScanCorpus.InstallScript("fake-trivy.sh", "trivy", "trivy-alpine.json");
        var scan = new ImageScan(ImageDigest, policy, BuiltInRuleSettings.Default, Clock, log);
        scan.InspectConfig(Config, "config");
        var layer = SecretLayer();
        await scan.ScanLayerAsync(Digest.Sha256(layer), LayerMediaTypes.OciTarGzip, new ForwardOnlyStream(layer));
        await scan.ScanLayerAsync(Digest.Sha256("zstd"u8), LayerMediaTypes.OciTarZstd, new MemoryStream("zstd"u8.ToArray()));
        await scan.RunScannersAsync(new ScannerRunner { PathVariable = _dir }, ScanCorpus.Image);
        return scan.Complete();
    }

    [Test]
    public async Task Full_scan_runs_installed_scanners_names_skipped_ones_and_fails_on_criticals()
    {
        var result = await FullScan(ScanPolicy.Create(new Dictionary<string, int> { ["critical"] = 0, ["high"] = 5 }, null));

        Assert.That(result.Passed, Is.False);
        Assert.That(result.ImageDigest, Is.EqualTo(ImageDigest.ToString()));
        Assert.That(result.ScannedAt, Is.EqualTo(Clock.GetUtcNow()));
        Assert.That(result.ScannersRun.Select(r => (r.Name, r.Succeeded, r.Findings)), Is.EqualTo(new[]
        {
            ("builtin-config", true, 2), ("builtin-secrets", true, 2), ("trivy", true, 8),
        }));
        Assert.That(result.ScannersSkipped.Select(s => s.Name), Is.EqualTo(new[] { "builtin-secrets", "grype" }));
        Assert.That(result.ScannersSkipped[0].Reason, Does.Contain("zstd").And.Contain("not supported, skipped"));
        // trivy 3 critical + the GitHub token + the OpenSSH key; high: 2 trivy + secret-in-env.
        Assert.That(result.Counts, Is.EqualTo(new SeverityCounts { Critical = 5, High = 3, Medium = 1, Low = 1, Unknown = 1, Info = 1 }));
        Assert.That(result.Reasons[0], Is.EqualTo("critical: 5 findings, at most 0 allowed"));
        Assert.That(result.Findings[0].Severity, Is.EqualTo(Severity.Critical));
    }

    [Test]
    public async Task Serialized_result_never_holds_a_secret_value()
    {
        var result = await FullScan(ScanPolicy.Default);
        var json = Encoding.UTF8.GetString(result.ToJsonBytes());
        var summary = result.ToSummary(maxFindings: 100);

        foreach (var secret in new[] { FakeSecrets.GitHubToken, FakeSecrets.PemBody, "abc123def456" })
        {
            Assert.That(json, Does.Not.Contain(secret));
            Assert.That(summary, Does.Not.Contain(secret));
        }
        Assert.That(json, Does.Contain("\"path\": \"/app/.env\"").And.Contain("\"line\": 2").And.Contain("ghp_***"));
    }

    [Test]
    public async Task Active_allowlist_lets_the_image_pass_and_expired_one_is_reported()
    {
        var allow = new[]
        {
            new AllowlistEntry("CVE-2024-5535", "ALPN unused", new DateOnly(2027, 1, 1)),
            new AllowlistEntry("aws-access-key-id", "test fixture key, revoked", new DateOnly(2027, 1, 1)),
            new AllowlistEntry("github-token", "revoked", new DateOnly(2027, 1, 1)),
            new AllowlistEntry("private-key", "throwaway host key", new DateOnly(2026, 11, 23)),
        };
        var result = await FullScan(ScanPolicy.Create(new Dictionary<string, int> { ["critical"] = 1 }, allow));

        Assert.That(result.Passed, Is.True, string.Join("; ", result.Reasons));
        Assert.That(result.Counts.Critical, Is.EqualTo(1));
        Assert.That(result.Allowlisted, Is.EqualTo(4));
        Assert.That(result.Reasons, Does.Contain("allowlist entry private-key expired on 2026-11-23: counted (1 finding)"));
    }

    [Test]
    public async Task Configured_scanner_that_is_missing_fails_the_scan()
    {
        var scan = new ImageScan(ImageDigest, ScanPolicy.Default, clock: Clock);
        scan.InspectConfig(Config);

        await scan.RunScannersAsync(new ScannerRunner(), ScanCorpus.Image, [ScannerCommand.Trivy with { Executable = "/nonexistent/trivy" }]);
        var result = scan.Complete();

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Reasons, Has.Some.StartWith("scanner trivy failed: trivy: executable '/nonexistent/trivy' not found on PATH"));
    }

    [Test]
    public async Task Unreadable_layer_fails_the_secrets_check()
    {
        var scan = new ImageScan(ImageDigest, ScanPolicy.Default, clock: Clock);
        var junk = "not a gzip stream"u8.ToArray();

        var layer = await scan.ScanLayerAsync(Digest.Sha256(junk), LayerMediaTypes.DockerTarGzip, new MemoryStream(junk));
        var result = scan.Complete();

        Assert.That(layer.SkippedReason, Does.Contain("cannot read it as"));
        Assert.That(result.Passed, Is.False);
        Assert.That(result.ScannersRun.Single(), Is.EqualTo(new ScannerRun("builtin-secrets", false, 0, "a layer could not be read (see skipped)")));
    }

    [Test]
    public void Scan_with_nothing_scanned_does_not_pass()
    {
        var result = new ImageScan(ImageDigest, clock: Clock).Complete();

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Reasons, Has.Some.StartWith("nothing was scanned"));
    }

    [Test]
    public void Scanner_target_must_be_the_scanned_digest()
    {
        var scan = new ImageScan(Digest.Sha256("other"u8), clock: Clock);

        Assert.ThrowsAsync<PromotionException>(() => scan.RunScannersAsync(new ScannerRunner(), ScanCorpus.Image));
    }
}
