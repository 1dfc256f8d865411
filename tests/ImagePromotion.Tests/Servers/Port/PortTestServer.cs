using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePromotion.Tests.Servers.Port;

/// <summary>How the fake Port misbehaves, to prove reporting never fails a promotion.</summary>
public enum PortOutage
{
    None,
    /// <summary>Every route answers 503, as Port's load balancer does during an incident.</summary>
    ServiceUnavailable,
    /// <summary>Connections are dropped without a response.</summary>
    ConnectionReset,
    /// <summary>Requests are accepted and never answered (until the client gives up).</summary>
    Hang,
}

public sealed record RecordedRunLog(string Id, string RunId, string Message, string? TerminationStatus, string? StatusLabel);

public sealed record RecordedRun(string Id)
{
    public string Status { get; set; } = "IN_PROGRESS";
    public string? StatusLabel { get; set; }
    public List<string> Links { get; } = new();
    public string? Summary { get; set; }
}

/// <summary>
/// Port's REST API as its reference documents it, for the routes a promotion uses: access tokens,
/// run logs, run patches, entity upsert and get. Requests are validated like Port does (unknown body
/// fields are 422, missing bearer 401, unknown run or entity 404) and everything is recorded.
/// </summary>
public sealed class PortTestServer : IAsyncDisposable
{
    public const string ClientId = "port-client-id-test";
    public const string ClientSecret = "port-client-secret-0123456789";

    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, byte> _tokens = new();
    private readonly Dictionary<string, RecordedRun> _runs = new();
    private readonly List<RecordedRunLog> _logs = new();
    private readonly Dictionary<(string Blueprint, string Identifier), JsonObject> _entities = new();
    private int _tokenCount;
    private int _requests;

    private PortTestServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;
    public PortOutage Outage { get; set; }
    public int TokensIssued => Volatile.Read(ref _tokenCount);
    public int Requests => Volatile.Read(ref _requests);
    public int TokenLifetimeSeconds { get; set; } = 3600;

    public static async Task<PortTestServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new PortTestServer(app);
        server.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.Replace("[::]", "127.0.0.1"));
        return server;
    }

    /// <summary>An action run exists in Port once a user runs the action; tests create it first.</summary>
    public void CreateRun(string runId)
    {
        lock (_gate) _runs[runId] = new RecordedRun(runId);
    }

    public RecordedRun? Run(string runId) { lock (_gate) return _runs.GetValueOrDefault(runId); }

    public IReadOnlyList<RecordedRunLog> Logs(string runId) { lock (_gate) return _logs.Where(l => l.RunId == runId).ToArray(); }

    public JsonObject? Entity(string blueprint, string identifier)
    {
        lock (_gate) return _entities.TryGetValue((blueprint, identifier), out var e) ? (JsonObject)e.DeepClone() : null;
    }

    public void PutEntity(string blueprint, JsonObject entity)
    {
        lock (_gate) _entities[(blueprint, entity["identifier"]!.GetValue<string>())] = (JsonObject)entity.DeepClone();
    }

    /// <summary>Invalidates every token issued so far, as a credential rotation would.</summary>
    public void RevokeTokens() => _tokens.Clear();

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref _requests);
            switch (Outage)
            {
                case PortOutage.ServiceUnavailable:
                    context.Response.StatusCode = 503;
                    await context.Response.WriteAsync("<html><body>503 Service Temporarily Unavailable</body></html>");
                    return;
                case PortOutage.ConnectionReset:
                    context.Abort();
                    return;
                case PortOutage.Hang:
                    try { await Task.Delay(Timeout.Infinite, context.RequestAborted); } catch (OperationCanceledException) { }
                    return;
            }
            if (context.Request.Path != "/v1/auth/access_token")
            {
                var header = context.Request.Headers.Authorization.ToString();
                if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.ContainsKey(header["Bearer ".Length..]))
                {
                    await Error(context, 401, "unauthorized", "Authorization header is missing or the token is invalid or expired");
                    return;
                }
            }
            await next(context);
        });

        app.MapPost("/v1/auth/access_token", async context =>
        {
            var body = await ReadObject(context, ["clientId", "clientSecret"]);
            if (body is null) return;
            if (body["clientId"]?.GetValue<string>() is not { } id || body["clientSecret"]?.GetValue<string>() is not { } secret)
            {
                await Error(context, 422, "invalid_request", "body must have required properties clientId, clientSecret");
                return;
            }
            if (id != ClientId || secret != ClientSecret)
            {
                await Error(context, 401, "unauthorized", "Invalid client credentials");
                return;
            }
            var token = "tok_" + Guid.NewGuid().ToString("N");
            _tokens[token] = 0;
            Interlocked.Increment(ref _tokenCount);
            await Json(context, 200, new JsonObject { ["ok"] = true, ["accessToken"] = token, ["expiresIn"] = TokenLifetimeSeconds, ["tokenType"] = "Bearer" });
        });

        app.MapPost("/v1/actions/runs/{runId}/logs", async (HttpContext context, string runId) =>
        {
            var body = await ReadObject(context, ["message", "terminationStatus", "statusLabel"]);
            if (body is null) return;
            if (body["message"] is not JsonValue m || !m.TryGetValue<string>(out var message))
            {
                await Error(context, 422, "invalid_request", "body must have required property 'message'");
                return;
            }
            var termination = body["terminationStatus"]?.GetValue<string>();
            if (termination is not (null or "SUCCESS" or "FAILURE"))
            {
                await Error(context, 422, "invalid_request", "terminationStatus must be equal to one of the allowed values");
                return;
            }
            RecordedRunLog log;
            lock (_gate)
            {
                if (!_runs.TryGetValue(runId, out var run)) { log = null!; }
                else
                {
                    log = new RecordedRunLog("log_" + Guid.NewGuid().ToString("N"), runId, message, termination, body["statusLabel"]?.GetValue<string>());
                    _logs.Add(log);
                    if (termination is not null) run.Status = termination;
                    if (log.StatusLabel is not null) run.StatusLabel = log.StatusLabel;
                }
            }
            if (log is null) { await Error(context, 404, "not_found", $"Action run with identifier \"{runId}\" was not found"); return; }
            await Json(context, 201, new JsonObject
            {
                ["ok"] = true,
                ["runLog"] = new JsonObject { ["id"] = log.Id, ["runId"] = runId, ["message"] = message, ["createdBy"] = ClientId, ["createdAt"] = DateTimeOffset.UtcNow.ToString("O") },
            });
        });

        app.MapMethods("/v1/actions/runs/{runId}", ["PATCH"], async (HttpContext context, string runId) =>
        {
            var body = await ReadObject(context, ["status", "statusLabel", "link", "message", "summary", "externalRunId"]);
            if (body is null) return;
            var status = body["status"]?.GetValue<string>();
            if (status is not (null or "SUCCESS" or "FAILURE"))
            {
                await Error(context, 422, "invalid_request", "status must be equal to one of the allowed values");
                return;
            }
            JsonObject answer;
            lock (_gate)
            {
                if (!_runs.TryGetValue(runId, out var run)) answer = null!;
                else
                {
                    if (status is not null) run.Status = status;
                    if (body["statusLabel"] is { } label) run.StatusLabel = label.GetValue<string>();
                    if (body["summary"] is { } summary) run.Summary = summary.GetValue<string>();
                    switch (body["link"])
                    {
                        case JsonValue one: run.Links.Add(one.GetValue<string>()); break;
                        case JsonArray many: run.Links.AddRange(many.Select(l => l!.GetValue<string>())); break;
                    }
                    answer = new JsonObject
                    {
                        ["ok"] = true,
                        ["run"] = new JsonObject
                        {
                            ["id"] = run.Id, ["status"] = run.Status, ["statusLabel"] = run.StatusLabel,
                            ["link"] = new JsonArray(run.Links.Select(l => (JsonNode)JsonValue.Create(l)!).ToArray()),
                            ["summary"] = run.Summary, ["action"] = new JsonObject { ["identifier"] = "promote_image" },
                            ["properties"] = new JsonObject(), ["requiredApproval"] = false, ["source"] = "UI",
                        },
                    };
                }
            }
            if (answer is null) { await Error(context, 404, "not_found", $"Action run with identifier \"{runId}\" was not found"); return; }
            await Json(context, 200, answer);
        });

        app.MapPost("/v1/blueprints/{blueprint}/entities", async (HttpContext context, string blueprint) =>
        {
            // Port requires the upsert query parameter on this route.
            if (!bool.TryParse(context.Request.Query["upsert"], out var upsert))
            {
                await Error(context, 422, "invalid_request", "querystring must have required property 'upsert'");
                return;
            }
            bool.TryParse(context.Request.Query["merge"], out var merge);
            var body = await ReadObject(context, null);
            if (body is null) return;
            if (body["identifier"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var identifier) || identifier.Length == 0)
            {
                await Error(context, 422, "invalid_request", "body must have required property 'identifier'");
                return;
            }
            if (body["relations"] is { } relations && relations is not JsonObject)
            {
                await Error(context, 422, "invalid_request", "body/relations must be object");
                return;
            }
            JsonObject stored;
            int status;
            lock (_gate)
            {
                var exists = _entities.TryGetValue((blueprint, identifier), out var existing);
                if (exists && !upsert) { stored = null!; status = 409; }
                else
                {
                    if (exists && merge)
                    {
                        stored = (JsonObject)existing!.DeepClone();
                        if (body["title"] is { } title) stored["title"] = title.DeepClone();
                        Merge(stored, "properties", body["properties"] as JsonObject);
                        Merge(stored, "relations", body["relations"] as JsonObject);
                    }
                    else
                    {
                        stored = new JsonObject
                        {
                            ["identifier"] = identifier,
                            ["title"] = body["title"]?.DeepClone(),
                            ["blueprint"] = blueprint,
                            ["properties"] = body["properties"]?.DeepClone() ?? new JsonObject(),
                            ["relations"] = body["relations"]?.DeepClone() ?? new JsonObject(),
                        };
                    }
                    _entities[(blueprint, identifier)] = stored;
                    stored = (JsonObject)stored.DeepClone();
                    status = 201;
                }
            }
            if (status == 409) { await Error(context, 409, "identifier_taken", $"Entity with identifier \"{identifier}\" already exists"); return; }
            await Json(context, status, new JsonObject { ["ok"] = true, ["entity"] = stored });
        });

        app.MapGet("/v1/blueprints/{blueprint}/entities/{identifier}", async (HttpContext context, string blueprint, string identifier) =>
        {
            var entity = Entity(blueprint, identifier);
            if (entity is null) { await Error(context, 404, "not_found", $"Entity with identifier \"{identifier}\" was not found"); return; }
            await Json(context, 200, new JsonObject { ["ok"] = true, ["entity"] = entity });
        });
    }

    private static void Merge(JsonObject target, string key, JsonObject? changes)
    {
        if (changes is null) return;
        if (target[key] is not JsonObject into) target[key] = into = new JsonObject();
        foreach (var (name, value) in changes) into[name] = value?.DeepClone();
    }

    /// <summary>Reads a JSON object body; with <paramref name="allowed"/>, other fields are 422 as Port's schema forbids them.</summary>
    private static async Task<JsonObject?> ReadObject(HttpContext context, string[]? allowed)
    {
        JsonNode? node;
        try { node = await JsonNode.ParseAsync(context.Request.Body); }
        catch (JsonException) { node = null; }
        if (node is not JsonObject body)
        {
            await Error(context, 422, "invalid_request", "body must be object");
            return null;
        }
        if (allowed is not null && body.Select(p => p.Key).FirstOrDefault(k => !allowed.Contains(k)) is { } extra)
        {
            await Error(context, 422, "invalid_request", $"body must NOT have additional properties ('{extra}')");
            return null;
        }
        return body;
    }

    private static Task Error(HttpContext context, int status, string error, string message) =>
        Json(context, status, new JsonObject { ["ok"] = false, ["error"] = error, ["message"] = message });

    private static async Task Json(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        Outage = PortOutage.None;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
