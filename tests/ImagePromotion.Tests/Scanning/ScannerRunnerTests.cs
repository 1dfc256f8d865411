using System.Runtime.Versioning;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

/// <summary>Real child processes: small shell scripts standing in for trivy and grype.</summary>
[TestFixture]
[Platform(Exclude = "Win", Reason = "the scanner stand-ins are POSIX shell scripts")]
[UnsupportedOSPlatform("windows")]
public sealed class ScannerRunnerTests
{
    private readonly List<string> _dirs = new();

    [TearDown]
    public void RemoveDirectories()
    {
        foreach (var dir in _dirs) Directory.Delete(dir, recursive: true);
        _dirs.Clear();
    }

    private string Install(string script, string asName, params string[] alongside)
    {
        var dir = ScanCorpus.InstallScript(script, asName, alongside);
        _dirs.Add(dir);
        return dir;
    }

    [Test]
    public async Task Missing_executable_is_a_failed_run_with_a_clear_reason()
    {
        var command = ScannerCommand.Trivy with { Executable = "/nonexistent/bin/trivy-not-here" };

        var result = await new ScannerRunner().RunAsync(command, ScanCorpus.Image);

        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.FailureReason, Is.EqualTo("trivy: executable '/nonexistent/bin/trivy-not-here' not found on PATH; install trivy or configure its command with a full path"));
    }

    [Test]
    public async Task Scanner_not_on_path_is_a_failed_run_when_configured()
    {
        var result = await new ScannerRunner { PathVariable = "/nonexistent" }.RunAsync(ScannerCommand.Grype, ScanCorpus.Image);

        Assert.That(result.FailureReason, Does.StartWith("grype: executable 'grype' not found on PATH"));
    }

    [Test]
    public async Task Scanner_exiting_non_zero_fails_with_its_last_error_line()
    {
        var dir = Install("failing-scanner.sh", "trivy");
        var log = new MemoryLog();

        var result = await new ScannerRunner(log) { PathVariable = dir }.RunAsync(ScannerCommand.Trivy, ScanCorpus.Image);

        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.FailureReason, Does.StartWith("trivy: exited with code 1: ")
            .And.EndWith("FATAL\timage scan error: unable to find the specified image: UNAUTHORIZED: authentication required"));
        Assert.That(log.Lines, Has.Some.StartWith("warning: scan: trivy: exited with code 1"));
    }

    [Test]
    public async Task Scanner_printing_something_that_is_not_a_report_fails()
    {
        var dir = Install("garbage-scanner.sh", "grype");

        var result = await new ScannerRunner { PathVariable = dir }.RunAsync(ScannerCommand.Grype, ScanCorpus.Image);

        Assert.That(result.FailureReason, Does.StartWith("grype: grype output: not valid JSON"));
    }

    [Test]
    public async Task Scanner_that_hangs_is_stopped_at_the_timeout_and_fails()
    {
        var dir = Install("slow-scanner.sh", "trivy");
        var started = DateTime.UtcNow;

        var result = await new ScannerRunner { PathVariable = dir, Timeout = TimeSpan.FromMilliseconds(500) }.RunAsync(ScannerCommand.Trivy, ScanCorpus.Image);

        Assert.That(result.FailureReason, Does.StartWith("trivy: timed out after"));
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(10)));
    }

    [Test]
    public async Task Fake_trivy_report_is_parsed_and_credentials_go_through_the_environment_only()
    {
        var dir = Install("fake-trivy.sh", "trivy", "trivy-alpine.json");
        var password = "pw-" + FakeSecrets.Chars(20, 99);
        var image = ImageReference.Parse("registry.example.com/shop/api:1.4.2@sha256:3f1c9a0e5d7b2c4a6e8f0b1d3c5a7e9f1b3d5c7a9e1f3b5d7c9a1e3f5b7d9c1a");

        var result = await new ScannerRunner { PathVariable = dir }.RunAsync(ScannerCommand.Trivy, image, new ScannerCredentials("robot$ci", password));

        Assert.That(result.Succeeded, Is.True, result.FailureReason);
        Assert.That(result.Report!.Format, Is.EqualTo(ReportFormat.Trivy));
        Assert.That(result.Report.Findings, Has.Count.EqualTo(8));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "argv.txt")), Is.EqualTo(new[]
        {
            "image", "--format", "json", "--quiet",
            "registry.example.com/shop/api@sha256:3f1c9a0e5d7b2c4a6e8f0b1d3c5a7e9f1b3d5c7a9e1f3b5d7c9a1e3f5b7d9c1a",
        }), "scanned by digest alone, and no credential on argv");
        Assert.That(File.ReadAllLines(Path.Combine(dir, "env.txt")), Is.EqualTo(new[] { "TRIVY_USERNAME=robot$ci", "TRIVY_PASSWORD=" + password, "TRIVY_INSECURE=" }));
        Assert.That(new ScannerCredentials("robot$ci", password).ToString(), Does.Not.Contain(password));
    }

    [Test]
    public async Task Loopback_registry_is_scanned_over_plain_http()
    {
        var dir = Install("fake-trivy.sh", "trivy", "trivy-alpine.json");
        var image = ImageReference.Parse("127.0.0.1:5000/shop/api@sha256:3f1c9a0e5d7b2c4a6e8f0b1d3c5a7e9f1b3d5c7a9e1f3b5d7c9a1e3f5b7d9c1a");

        var result = await new ScannerRunner { PathVariable = dir }.RunAsync(ScannerCommand.Trivy, image);

        Assert.That(result.Succeeded, Is.True, result.FailureReason);
        Assert.That(File.ReadAllLines(Path.Combine(dir, "env.txt")), Does.Contain("TRIVY_INSECURE=true"));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "argv.txt")).Last(), Does.StartWith("127.0.0.1:5000/shop/api@sha256:"));
    }

    [Test]
    public void Image_without_digest_is_refused()
    {
        var ex = Assert.ThrowsAsync<PromotionException>(() =>
            new ScannerRunner().RunAsync(ScannerCommand.Trivy, ImageReference.Parse("registry.example.com/shop/api:1.4.2")));

        Assert.That(ex!.Message, Does.StartWith("scan target 'registry.example.com/shop/api:1.4.2' has no digest"));
    }

    [Test]
    public void Detect_reports_installed_scanners_and_names_the_rest()
    {
        var dir = Install("fake-trivy.sh", "trivy");

        var availability = ScannerAvailability.Detect(dir);

        Assert.That(availability.Installed.Select(s => s.Name), Is.EqualTo(new[] { "trivy" }));
        Assert.That(availability.Skipped, Is.EqualTo(new[] { new SkippedScanner("grype", "not installed ('grype' not found on PATH)") }));
    }

    [Test]
    public void A_file_without_execute_permission_is_not_installed()
    {
        var dir = Install("fake-trivy.sh", "trivy");
        File.SetUnixFileMode(Path.Combine(dir, "trivy"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.That(ExecutableLocator.Find("trivy", dir), Is.Null);
    }
}
