using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ImagePromotion.Logging;
using ImagePromotion.Port;
using ImagePromotion.Tests.Servers.Port;
using NUnit.Framework;

namespace ImagePromotion.Tests.Port;

/// <summary>End to end: what a promotion reports to Port, and that Port's trouble never becomes ours.</summary>
[TestFixture]
[CancelAfter(30_000)]
public sealed class PortReporterTests
{
    private PortTestServer _server = null!;

    [SetUp]
    public async Task StartServer() => _server = await PortTestServer.StartAsync();

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private PortReporter Reporter(MemoryLog log, string? runId = "run_42", string secret = PortTestServer.ClientSecret, Uri? baseUrl = null, TimeSpan? timeout = null) =>
        PortReporter.Create(new PortOptions
        {
            ClientId = PortTestServer.ClientId,
            ClientSecret = secret,
            BaseUrl = baseUrl ?? _server.BaseUrl,
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
        }, runId, log);

    [Test]
    public async Task A_successful_promotion_is_logged_linked_and_marked_success()
    {
        _server.CreateRun("run_42");
        _server.PutEntity("running_service", new JsonObject { ["identifier"] = "messenger_prod", ["relations"] = new JsonObject { ["image"] = "messenger-1.0" } });
        var log = new MemoryLog();
        using var port = Reporter(log);

        Assert.That(await port.LogAsync("About to promote deployment image from staging to production..."), Is.True);
        Assert.That(await port.SetRunningServiceImageAsync("messenger_prod", "messenger-1.1"), Is.True);
        Assert.That(await port.SucceedAsync("Completed promotion", links: ["https://github.com/o/r/actions/runs/9", "https://github.com/o/r/pull/3"], summary: "sha256:abc in production"), Is.True);

        var run = _server.Run("run_42")!;
        Assert.That(run.Status, Is.EqualTo("SUCCESS"));
        Assert.That(run.Links, Does.Contain("https://github.com/o/r/pull/3"));
        Assert.That(run.Summary, Is.EqualTo("sha256:abc in production"));
        Assert.That(_server.Logs("run_42").Select(l => l.Message), Is.EqualTo(new[] { "About to promote deployment image from staging to production...", "Completed promotion" }));
        Assert.That(_server.Entity("running_service", "messenger_prod")!["relations"]!["image"]!.GetValue<string>(), Is.EqualTo("messenger-1.1"));
        Assert.That(log.Lines.Where(l => l.StartsWith("warning")), Is.Empty);
    }

    [Test]
    public async Task A_failed_promotion_is_marked_failure_with_the_reason()
    {
        _server.CreateRun("run_42");
        var log = new MemoryLog();
        using var port = Reporter(log);

        Assert.That(await port.FailAsync("gate 'vulnerability-scan' blocked: 2 critical CVEs", ["https://ci/run/1"]), Is.True);

        var run = _server.Run("run_42")!;
        Assert.That(run.Status, Is.EqualTo("FAILURE"));
        Assert.That(run.Summary, Does.Contain("2 critical CVEs"));
        Assert.That(_server.Logs("run_42").Single().Message, Does.StartWith("Promotion failed: gate 'vulnerability-scan'"));
    }

    [Test]
    public async Task Secrets_in_report_text_are_redacted_before_they_leave()
    {
        _server.CreateRun("run_42");
        SecretRedactor.Shared.Add("registry-password-77");
        using var port = Reporter(new MemoryLog());
        await port.LogAsync("login with registry-password-77 failed");
        Assert.That(_server.Logs("run_42").Single().Message, Is.EqualTo("login with *** failed"));
    }

    [Test]
    public async Task Rejected_credentials_are_a_warning_not_a_failure()
    {
        _server.CreateRun("run_42");
        var log = new MemoryLog();
        using var port = Reporter(log, secret: "not-the-right-secret");

        Assert.That(await port.LogAsync("hello"), Is.False);
        Assert.That(await port.SetRunningServiceImageAsync("messenger_prod", "img"), Is.False);
        Assert.That(await port.SucceedAsync("done"), Is.False);

        var warnings = log.Lines.Where(l => l.StartsWith("warning: ")).ToArray();
        Assert.That(warnings, Has.Length.EqualTo(1), "one warning, then Port is left alone for this run");
        Assert.That(warnings[0], Does.Contain("PORT_CLIENT_SECRET").And.Not.Contain("not-the-right-secret"));
        Assert.That(_server.Run("run_42")!.Status, Is.EqualTo("IN_PROGRESS"));
    }

    [Test]
    public async Task Service_unavailable_is_a_warning_and_later_calls_do_not_wait()
    {
        _server.CreateRun("run_42");
        _server.Outage = PortOutage.ServiceUnavailable;
        var log = new MemoryLog();
        using var port = Reporter(log);

        Assert.That(await port.LogAsync("one"), Is.False);
        var before = _server.Requests;
        Assert.That(await port.LogAsync("two"), Is.False);
        Assert.That(_server.Requests, Is.EqualTo(before), "after an outage, progress lines are skipped");
        Assert.That(await port.SucceedAsync("done"), Is.False);
        Assert.That(log.Lines.Count(l => l.StartsWith("warning: ")), Is.GreaterThanOrEqualTo(1));
        Assert.That(log.Lines.First(l => l.StartsWith("warning: ")), Does.Contain("503"));
    }

    [Test]
    public async Task Dropped_connections_are_a_warning()
    {
        _server.CreateRun("run_42");
        _server.Outage = PortOutage.ConnectionReset;
        var log = new MemoryLog();
        using var port = Reporter(log);
        Assert.That(await port.SucceedAsync("done"), Is.False);
        Assert.That(log.Lines.Single(l => l.StartsWith("warning: ")), Does.Contain("cannot reach Port"));
    }

    [Test]
    public async Task Connection_refused_is_a_warning()
    {
        var closed = ClosedLoopbackPort();
        var log = new MemoryLog();
        using var port = Reporter(log, baseUrl: new Uri($"http://127.0.0.1:{closed}"));
        Assert.That(await port.LogAsync("hello"), Is.False);
        Assert.That(await port.GetEntityAsync("image", "x"), Is.Null);
        Assert.That(log.Lines.Single(l => l.StartsWith("warning: ")), Does.Contain("connection refused"));
    }

    [Test]
    public async Task A_timeout_is_a_warning_within_the_deadline()
    {
        _server.CreateRun("run_42");
        _server.Outage = PortOutage.Hang;
        var log = new MemoryLog();
        using var port = Reporter(log, timeout: TimeSpan.FromMilliseconds(400));
        var started = DateTime.UtcNow;
        Assert.That(await port.LogAsync("hello"), Is.False);
        Assert.That(await port.SucceedAsync("done"), Is.False);
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(log.Lines.First(l => l.StartsWith("warning: ")), Does.Contain("did not answer"));
    }

    [Test]
    public async Task Without_credentials_the_reporter_is_off_and_says_so_once()
    {
        var log = new MemoryLog();
        using var port = PortReporter.Create(null, "run_42", log);
        Assert.That(port.ReportsRun, Is.False);
        Assert.That(await port.LogAsync("x"), Is.False);
        Assert.That(await port.SucceedAsync("x"), Is.False);
        Assert.That(log.Lines.Single(), Does.Contain("PORT_CLIENT_ID"));
        Assert.That(_server.Requests, Is.EqualTo(0));
    }

    [Test]
    public async Task Without_a_run_id_only_the_catalog_is_updated()
    {
        var log = new MemoryLog();
        using var port = Reporter(log, runId: null);
        Assert.That(await port.LogAsync("x"), Is.False);
        Assert.That(await port.SetRunningServiceImageAsync("messenger_prod", "messenger-2.0"), Is.True);
        Assert.That(_server.Entity("running_service", "messenger_prod")!["relations"]!["image"]!.GetValue<string>(), Is.EqualTo("messenger-2.0"));
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
