using System.Text.Json.Nodes;
using ImagePromotion.Logging;
using ImagePromotion.Port;
using ImagePromotion.Tests.Servers.Port;
using NUnit.Framework;

namespace ImagePromotion.Tests.Port;

[TestFixture]
[CancelAfter(30_000)]
public sealed class PortClientTests
{
    private PortTestServer _server = null!;

    [SetUp]
    public async Task StartServer() => _server = await PortTestServer.StartAsync();

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private PortClient Client(string secret = PortTestServer.ClientSecret, TimeSpan? timeout = null) => new(new PortOptions
    {
        ClientId = PortTestServer.ClientId,
        ClientSecret = secret,
        BaseUrl = _server.BaseUrl,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
    });

    [TestCase("..")]
    [TestCase(".")]
    [TestCase("../../blueprints/running_service/entities")]
    [TestCase("r_1/../../logs")]
    [TestCase("r_1%2F..")]
    [TestCase("r 1")]
    [TestCase("r_1\n::error::injected")]
    public void A_run_id_that_is_not_Ports_shape_is_refused_before_any_request(string runId)
    {
        using var client = Client();
        var before = _server.Requests;
        var e = Assert.ThrowsAsync<ImagePromotion.PromotionException>(() => client.AddRunLogAsync(runId, "hello"));
        Assert.That(e!.Message, Does.Contain("--port-run-id"), "names the input");
        if (runId.Length > 2) Assert.That(e.Message, Does.Not.Contain(runId), "never echoes untrusted text");
        Assert.ThrowsAsync<ImagePromotion.PromotionException>(() => client.PatchRunAsync(runId, PortRunStatus.Success));
        Assert.ThrowsAsync<ImagePromotion.PromotionException>(() => client.SetRelationAsync("running_service", "svc", "image", "sha256:" + new string('a', 64), runId));
        Assert.Throws<ImagePromotion.PromotionException>(() => PortReporter.Create(null, runId, new MemoryLog()),
            "a malformed run id stops the run at the start: bad input, not a Port outage");
        Assert.That(_server.Requests, Is.EqualTo(before), "no request left");
    }

    [TestCase("..")]
    [TestCase("a/b c")]
    public void An_entity_identifier_Port_would_not_accept_is_refused_before_any_request(string identifier)
    {
        using var client = Client();
        var before = _server.Requests;
        Assert.ThrowsAsync<ImagePromotion.PromotionException>(() => client.GetEntityAsync("running_service", identifier));
        Assert.That(_server.Requests, Is.EqualTo(before));
    }

    [Test]
    public async Task A_relation_to_an_image_digest_is_set_with_the_digest_as_the_image_entity()
    {
        _server.PutEntity("running_service", new JsonObject { ["identifier"] = "svc-prod", ["relations"] = new JsonObject { ["image"] = "old" } });
        using var client = Client();
        var digest = "sha256:" + new string('b', 64);
        await client.SetRelationAsync("running_service", "svc-prod", "image", digest);
        Assert.That(_server.Entity("running_service", "svc-prod")!["relations"]!["image"]!.GetValue<string>(), Is.EqualTo(digest));
    }

    [Test]
    public async Task Logs_and_final_status_reach_the_run_with_one_token()
    {
        _server.CreateRun("r_1");
        using var client = Client();

        await client.AddRunLogAsync("r_1", "About to promote");
        await client.AddRunLogAsync("r_1", "Copied sha256:abc");
        await client.PatchRunAsync("r_1", PortRunStatus.Success, "Promoted", ["https://github.com/o/r/actions/runs/1", "https://github.com/o/r/pull/7"], "digest sha256:abc");

        Assert.That(_server.Logs("r_1").Select(l => l.Message), Is.EqualTo(new[] { "About to promote", "Copied sha256:abc" }));
        var run = _server.Run("r_1")!;
        Assert.That(run.Status, Is.EqualTo("SUCCESS"));
        Assert.That(run.StatusLabel, Is.EqualTo("Promoted"));
        Assert.That(run.Links, Is.EqualTo(new[] { "https://github.com/o/r/actions/runs/1", "https://github.com/o/r/pull/7" }));
        Assert.That(run.Summary, Is.EqualTo("digest sha256:abc"));
        Assert.That(_server.TokensIssued, Is.EqualTo(1), "the access token is reused while valid");
    }

    [Test]
    public async Task A_log_line_can_terminate_the_run()
    {
        _server.CreateRun("r_2");
        using var client = Client();
        await client.AddRunLogAsync("r_2", "gate failed", PortRunStatus.Failure, "Blocked");
        Assert.That(_server.Run("r_2")!.Status, Is.EqualTo("FAILURE"));
        Assert.That(_server.Logs("r_2").Single().TerminationStatus, Is.EqualTo("FAILURE"));
        Assert.That(_server.Run("r_2")!.StatusLabel, Is.EqualTo("Blocked"));
    }

    [Test]
    public async Task Upsert_merges_the_image_relation_into_the_running_service()
    {
        _server.PutEntity("running_service", new JsonObject
        {
            ["identifier"] = "messenger_prod",
            ["title"] = "messenger prod",
            ["properties"] = new JsonObject { ["gitPath"] = "apps/messenger/prod/deployment.yml" },
            ["relations"] = new JsonObject { ["service"] = "messenger", ["image"] = "messenger-1.0" },
        });
        using var client = Client();

        var entity = await client.SetRelationAsync("running_service", "messenger_prod", "image", "messenger-1.1");

        Assert.That(entity.Relation("image"), Is.EqualTo("messenger-1.1"));
        var stored = await client.GetEntityAsync("running_service", "messenger_prod");
        Assert.That(stored, Is.Not.Null);
        Assert.That(stored!.Relation("image"), Is.EqualTo("messenger-1.1"));
        Assert.That(stored.Relation("service"), Is.EqualTo("messenger"), "merge keeps the other relations");
        Assert.That(stored.Property("gitPath"), Is.EqualTo("apps/messenger/prod/deployment.yml"), "merge keeps the properties");
    }

    [Test]
    public async Task Get_of_a_missing_entity_is_null()
    {
        using var client = Client();
        Assert.That(await client.GetEntityAsync("image", "nope"), Is.Null);
    }

    [Test]
    public void Unknown_run_is_a_one_line_error_naming_the_run_id_flag()
    {
        using var client = Client();
        var e = Assert.ThrowsAsync<PortApiException>(() => client.AddRunLogAsync("r_missing", "hello"));
        Assert.That(e!.StatusCode, Is.EqualTo(404));
        Assert.That(e.IsOutage, Is.False);
        Assert.That(e.Message, Does.Contain("--port-run-id").And.Not.Contain("\n"));
    }

    [Test]
    public void Wrong_secret_is_reported_without_the_secret()
    {
        const string wrong = "wrong-secret-value-42";
        using var client = Client(wrong);
        var e = Assert.ThrowsAsync<PortApiException>(() => client.AddRunLogAsync("r_1", "hello"));
        Assert.That(e!.StatusCode, Is.EqualTo(401));
        Assert.That(e.Message, Does.Contain("PORT_CLIENT_SECRET").And.Not.Contain(wrong));
        Assert.That(SecretRedactor.Shared.Redact("x " + wrong), Is.EqualTo("x ***"), "the secret was registered when read");
    }

    [Test]
    public async Task A_revoked_token_is_replaced_once()
    {
        _server.CreateRun("r_3");
        using var client = Client();
        await client.AddRunLogAsync("r_3", "one");
        _server.RevokeTokens();
        await client.AddRunLogAsync("r_3", "two");
        Assert.That(_server.TokensIssued, Is.EqualTo(2));
        Assert.That(_server.Logs("r_3"), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task A_token_close_to_expiry_is_renewed_before_use()
    {
        _server.CreateRun("r_6");
        _server.TokenLifetimeSeconds = 30; // inside the client's one-minute safety margin
        using var client = Client();
        await client.AddRunLogAsync("r_6", "one");
        await client.AddRunLogAsync("r_6", "two");
        Assert.That(_server.TokensIssued, Is.EqualTo(2));
    }

    [Test]
    public void Service_unavailable_is_an_outage()
    {
        _server.CreateRun("r_4");
        _server.Outage = PortOutage.ServiceUnavailable;
        using var client = Client();
        var e = Assert.ThrowsAsync<PortApiException>(() => client.AddRunLogAsync("r_4", "x"));
        Assert.That(e!.IsOutage, Is.True);
        Assert.That(e.StatusCode, Is.EqualTo(503));
    }

    [Test]
    public void A_hanging_port_times_out_as_an_outage()
    {
        _server.Outage = PortOutage.Hang;
        using var client = Client(timeout: TimeSpan.FromMilliseconds(500));
        var started = DateTime.UtcNow;
        var e = Assert.ThrowsAsync<PortApiException>(() => client.AddRunLogAsync("r_5", "x"));
        Assert.That(e!.IsOutage, Is.True);
        Assert.That(e.Message, Does.Contain("did not answer"));
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void Empty_run_id_is_refused_before_any_request()
    {
        using var client = Client();
        var e = Assert.ThrowsAsync<PromotionException>(() => client.AddRunLogAsync(" ", "x"));
        Assert.That(e!.Message, Does.Contain("--port-run-id"));
        Assert.That(_server.Requests, Is.EqualTo(0));
    }

    [Test]
    public void Options_from_environment_register_the_secret_and_check_the_base_url()
    {
        var env = new Dictionary<string, string?>
        {
            ["PORT_CLIENT_ID"] = "id", ["PORT_CLIENT_SECRET"] = "env-secret-xyz-987", ["PORT_BASE_URL"] = "https://api.port.io",
        };
        var options = PortOptions.FromEnvironment(env)!;
        Assert.That(options.BaseUrl, Is.EqualTo(PortOptions.EuBaseUrl));
        Assert.That(SecretRedactor.Shared.Redact("env-secret-xyz-987"), Is.EqualTo("***"));
        Assert.That(PortOptions.FromEnvironment(new Dictionary<string, string?> { ["PORT_CLIENT_ID"] = "id" }), Is.Null);
        env["PORT_BASE_URL"] = "api.port.io";
        Assert.Throws<PromotionException>(() => PortOptions.FromEnvironment(env));
    }
}
