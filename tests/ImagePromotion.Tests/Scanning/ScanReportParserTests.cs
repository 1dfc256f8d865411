using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

[TestFixture]
public sealed class ScanReportParserTests
{
    private static ScanReport Parse(string fixture) => ScanReportParser.Parse(ScanCorpus.Bytes(fixture), fixture);

    private static SeverityCounts Counts(ScanReport report) => SeverityCounts.Of(report.Findings);

    [Test]
    public void Trivy_report_gives_vulnerabilities_and_secrets_with_counts()
    {
        var report = Parse("trivy-alpine.json");

        Assert.That((report.Format, report.Tool), Is.EqualTo((ReportFormat.Trivy, "trivy")));
        Assert.That(Counts(report), Is.EqualTo(new SeverityCounts { Critical = 3, High = 2, Medium = 1, Low = 1, Unknown = 1 }));
        var crossSpawn = report.Findings.Single(f => f.Package == "cross-spawn");
        Assert.That((crossSpawn.Id, crossSpawn.InstalledVersion, crossSpawn.FixedVersion), Is.EqualTo(("CVE-2024-21538", "7.0.3", "7.0.5, 6.0.6")));
        var secret = report.Findings.Single(f => f.Id == "aws-access-key-id");
        Assert.That((secret.Path, secret.Line), Is.EqualTo(("/app/.env", (int?)3)));
        Assert.That(secret.Title, Does.Not.Contain("*****"), "Trivy's Match field is not copied");
        Assert.That(report.Findings.Single(f => f.Id == "CVE-2024-9143").FixedVersion, Is.Null);
    }

    [Test]
    public void Clean_trivy_report_has_no_findings()
    {
        var report = Parse("trivy-clean.json");

        Assert.That(report.Format, Is.EqualTo(ReportFormat.Trivy));
        Assert.That(report.Findings, Is.Empty);
    }

    [Test]
    public void Grype_report_maps_severities_fixes_and_packages()
    {
        var report = Parse("grype-debian.json");

        Assert.That((report.Format, report.Tool), Is.EqualTo((ReportFormat.Grype, "grype")));
        Assert.That(Counts(report), Is.EqualTo(new SeverityCounts { Critical = 1, High = 1, Medium = 1, Unknown = 1, Info = 1 }),
            "Negligible is info, not low");
        var expat = report.Findings.Single(f => f.Id == "CVE-2024-45490");
        Assert.That((expat.Package, expat.InstalledVersion, expat.FixedVersion), Is.EqualTo(("libexpat1", "2.5.0-1", "2.5.0-1+deb12u1")));
        var zlib = report.Findings.Single(f => f.Id == "CVE-2023-45853");
        Assert.That(zlib.FixedVersion, Is.Null, "wont-fix has no versions");
        Assert.That(zlib.Title, Is.EqualTo("CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1"));
    }

    [Test]
    public void Trivy_sarif_takes_severity_from_the_cvss_security_severity()
    {
        var report = Parse("trivy.sarif");

        Assert.That((report.Format, report.Tool), Is.EqualTo((ReportFormat.Sarif, "trivy")));
        Assert.That(Counts(report), Is.EqualTo(new SeverityCounts { Critical = 1, High = 1, Medium = 2 }));
        var first = report.Findings.Single(f => f.Id == "CVE-2024-5535");
        Assert.That((first.Title, first.Path, first.Line), Is.EqualTo(("Package: libssl3", "registry.example.com/shop/api", (int?)1)));
    }

    [Test]
    public void Generic_sarif_falls_back_from_severity_property_to_tags_to_level()
    {
        var report = Parse("generic.sarif");

        var byMessage = report.Findings.ToDictionary(f => f.Title, f => f.Severity);
        Assert.That(byMessage, Is.EquivalentTo(new Dictionary<string, Severity>
        {
            ["log4j-core 2.14.1 is in the CISA KEV catalogue"] = Severity.Critical, // properties.severity
            ["debian:11 reached end of life"] = Severity.High,                      // tag "high"
            ["/tmp/cache is world-writable"] = Severity.High,                       // rule default level error
            ["/usr/bin/newgrp is setuid root"] = Severity.Medium,                   // SARIF default level warning
            ["/var/cache/apt is not empty"] = Severity.Low,                         // rule default level note
            ["/usr/bin/passwd is setuid root (expected)"] = Severity.Info,          // level none
        }), "the kind=pass result is not a finding");
        Assert.That(report.Findings.All(f => f.Source == "imagelint"));
    }

    [Test]
    public void Json_that_is_no_known_report_is_refused_by_name()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse("not-a-report.json"));

        Assert.That(ex!.Message, Does.StartWith("not-a-report.json: JSON is not a Trivy"));
    }

    [Test]
    public void Output_that_is_not_json_is_refused_by_name()
    {
        var ex = Assert.Throws<PromotionException>(() => ScanReportParser.Parse("Total: 3 (HIGH: 1)"u8.ToArray(), "trivy output"));

        Assert.That(ex!.Message, Does.StartWith("trivy output: not valid JSON"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Same_cve_in_the_same_package_from_two_scanners_counts_once()
    {
        var trivy = new Finding { Id = "CVE-2024-1", Severity = Severity.High, Source = "trivy", Title = "t", Package = "zlib", InstalledVersion = "1.3" };
        var grype = trivy with { Source = "grype", Severity = Severity.Critical, FixedVersion = "1.3.1" };
        var other = trivy with { Package = "zlib-dev" };

        var merged = Finding.Merge([trivy, grype, other]);

        Assert.That(merged, Has.Count.EqualTo(2));
        var zlib = merged.Single(f => f.Package == "zlib");
        Assert.That((zlib.Source, zlib.Severity, zlib.FixedVersion), Is.EqualTo(("grype+trivy", Severity.Critical, "1.3.1")));
    }
}
