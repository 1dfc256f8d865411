using System.Text;
using System.Text.Json;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

[TestFixture]
public sealed class ScanResultTests
{
    private static ScanResult Sample()
    {
        var scan = new ImageScan(ScanCorpus.Image.Digest!.Value,
            ScanPolicy.Create(new Dictionary<string, int> { ["critical"] = 0 }, [new AllowlistEntry("CVE-2024-4741", "not reachable", new DateOnly(2027, 3, 1))]),
            clock: new FixedClock(new DateTimeOffset(2026, 11, 23, 12, 30, 15, TimeSpan.FromHours(1))));
        scan.AddExternal(new ExternalScanResult("grype", ScanReportParser.Parse(ScanCorpus.Bytes("grype-debian.json"), "grype"), null));
        scan.AddExternal(new ExternalScanResult("trivy", ScanReportParser.Parse(ScanCorpus.Bytes("trivy-alpine.json"), "trivy"), null));
        scan.Skip("osv-scanner", "not configured");
        return scan.Complete();
    }

    [Test]
    public void Json_is_camel_case_with_lowercase_enums_and_utc_time()
    {
        using var doc = JsonDocument.Parse(Sample().ToJsonBytes());
        var root = doc.RootElement;

        Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[]
        {
            "schemaVersion", "imageDigest", "scannedAt", "passed", "reasons", "scannersRun", "scannersSkipped", "counts", "allowlisted", "findings", "policy",
        }));
        Assert.That(root.GetProperty("scannedAt").GetString(), Is.EqualTo("2026-11-23T11:30:15+00:00"));
        Assert.That(root.GetProperty("findings")[0].GetProperty("severity").GetString(), Is.EqualTo("critical"));
        Assert.That(root.GetProperty("counts").GetProperty("critical").GetInt32(), Is.EqualTo(4));
    }

    [Test]
    public void Json_round_trips_to_the_same_bytes()
    {
        var bytes = Sample().ToJsonBytes();

        var again = ScanResult.FromJson(bytes).ToJsonBytes();

        Assert.That(Encoding.UTF8.GetString(again), Is.EqualTo(Encoding.UTF8.GetString(bytes)));
        Assert.That(Sample().ToJsonBytes(), Is.EqualTo(bytes), "two scans of the same input give the same artifact");
    }

    [Test]
    public void Findings_are_worst_first_and_allowlisted_ones_marked()
    {
        var result = Sample();

        Assert.That(result.Findings.Select(f => f.Severity), Is.Ordered.Descending);
        Assert.That(result.Findings.Where(f => f.Allowlisted).Select(f => f.Id), Is.EqualTo(new[] { "CVE-2024-4741" }));
        Assert.That(result.Allowlisted, Is.EqualTo(1));
        Assert.That(result.Counts.High, Is.EqualTo(2), "trivy 2 high + grype 1 high - 1 allowlisted");
    }

    [Test]
    public void Summary_names_the_verdict_counts_scanners_and_reasons()
    {
        var lines = Sample().ToSummary(maxFindings: 2).Split('\n');

        Assert.That(lines[0], Is.EqualTo($"scan {ScanCorpus.Image.Digest}: FAILED at 2026-11-23T11:30:15Z"));
        Assert.That(lines[1], Is.EqualTo("counts: critical 4, high 2, medium 2, low 1, unknown 2, info 1 (1 allowlisted)"));
        Assert.That(lines[2], Is.EqualTo("scanners: grype (5), trivy (8); skipped: osv-scanner (not configured)"));
        Assert.That(lines[3], Is.EqualTo("- critical: 4 findings, at most 0 allowed"));
        Assert.That(lines[4], Does.StartWith("  critical CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1: "));
        Assert.That(lines, Has.Length.EqualTo(6));
    }

    [Test]
    public void Json_that_is_not_a_scan_result_is_refused_by_name()
    {
        Assert.That(Assert.Throws<PromotionException>(() => ScanResult.FromJson("{\"imageDigest\": 3"u8, "scan-result.json"))!.Message,
            Does.StartWith("scan-result.json: not a scan result"));
        var wrongVersion = Encoding.UTF8.GetString(Sample().ToJsonBytes()).Replace("\"schemaVersion\": 1", "\"schemaVersion\": 2");
        Assert.That(Assert.Throws<PromotionException>(() => ScanResult.FromJson(Encoding.UTF8.GetBytes(wrongVersion)))!.Message,
            Does.Contain("schemaVersion 2 is not supported"));
    }

    [Test]
    public void Result_artifact_media_type_is_stable()
    {
        Assert.That(ScanResult.ArtifactMediaType, Is.EqualTo("application/vnd.imagepromotion.scan-result.v1+json"));
        Assert.That(Digest.Sha256(Sample().ToJsonBytes()), Is.EqualTo(Digest.Sha256(Sample().ToJsonBytes())));
    }
}
