using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Logging;

namespace ImagePromotion.Port;

/// <summary>
/// The few calls of Port's REST API a promotion needs: report progress on the action run that started
/// it and point the running_service entity at the promoted image. Shapes follow Port's API reference.
/// </summary>
public sealed class PortClient : IDisposable
{
    // Refresh a little early so a token never expires between the check and the call.
    private static readonly TimeSpan TokenMargin = TimeSpan.FromSeconds(60);

    private readonly PortOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _tokenGate = new(1, 1);
    private string? _token;
    private DateTimeOffset _tokenExpires;

    /// <summary>A client for Port's API as <paramref name="options"/>' client id; the secret is registered with the redactor first.</summary>
    /// <param name="options">Base URL, credentials and per-request timeout.</param>
    /// <param name="http">An HTTP client to use (tests); null: a client of its own, disposed with this one.</param>
    /// <param name="time">Clock for token expiry; null: the system clock.</param>
    /// <exception cref="PromotionException">The client id or secret is empty.</exception>
    public PortClient(PortOptions options, HttpClient? http = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ClientId))
            throw new PromotionException("Port client id is empty: set PORT_CLIENT_ID from Port's Credentials page");
        if (string.IsNullOrWhiteSpace(options.ClientSecret))
            throw new PromotionException("Port client secret is empty: set PORT_CLIENT_SECRET from Port's Credentials page");
        SecretRedactor.Shared.Add(options.ClientSecret);
        _options = options;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient();
        // Each request gets its own deadline below; the client-wide one would fight it.
        if (_ownsHttp) _http.Timeout = Timeout.InfiniteTimeSpan;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The API root calls go to (US or EU region).</summary>
    public Uri BaseUrl => _options.BaseUrl;

    /// <summary>POST /v1/actions/runs/{run_id}/logs; a termination status here also ends the run.</summary>
    public Task AddRunLogAsync(string runId, string message, PortRunStatus? terminationStatus = null, string? statusLabel = null, CancellationToken cancellationToken = default)
    {
        RequireId(runId, "run id", "--port-run-id");
        var body = new RunLogRequest(SecretRedactor.Shared.Redact(message), terminationStatus?.Wire(), Redact(statusLabel));
        return SendAsync(HttpMethod.Post, $"/v1/actions/runs/{Escape(runId)}/logs", body, cancellationToken);
    }

    /// <summary>PATCH /v1/actions/runs/{run_id}: final status, label, links (the CI run, the PR) and summary.</summary>
    public Task PatchRunAsync(string runId, PortRunStatus? status, string? statusLabel = null, IReadOnlyList<string>? links = null, string? summary = null, CancellationToken cancellationToken = default)
    {
        RequireId(runId, "run id", "--port-run-id");
        var linkList = links?.Where(l => !string.IsNullOrWhiteSpace(l)).ToArray();
        var body = new RunPatchRequest(status?.Wire(), Redact(statusLabel), linkList is { Length: > 0 } ? linkList : null, Redact(summary));
        return SendAsync(HttpMethod.Patch, $"/v1/actions/runs/{Escape(runId)}", body, cancellationToken);
    }

    /// <summary>
    /// POST /v1/blueprints/{blueprint}/entities?upsert=true&amp;merge=true: creates the entity or updates
    /// only the given properties and relations, leaving the rest of it as it was.
    /// </summary>
    public async Task<PortEntity> UpsertEntityAsync(string blueprint, string identifier, string? title = null, JsonObject? properties = null, JsonObject? relations = null, string? runId = null, CancellationToken cancellationToken = default)
    {
        RequireId(blueprint, "blueprint", "the blueprint identifier, e.g. running_service");
        RequireId(identifier, "entity identifier", "the entity identifier, e.g. messenger_prod");
        var body = new EntityRequest(identifier, title, properties ?? new JsonObject(), relations ?? new JsonObject());
        var path = $"/v1/blueprints/{Escape(blueprint)}/entities?upsert=true&merge=true";
        if (!string.IsNullOrWhiteSpace(runId)) path += "&run_id=" + Escape(runId);
        using var response = await SendAsync(HttpMethod.Post, path, body, cancellationToken, keep: true).ConfigureAwait(false);
        var parsed = await ReadAsync<EntityResponse>(response, path, cancellationToken).ConfigureAwait(false);
        return parsed.Entity ?? new PortEntity { Identifier = identifier, Title = title, Blueprint = blueprint };
    }

    /// <summary>Points a running service at an image entity: the running_service's <c>image</c> relation.</summary>
    public Task<PortEntity> SetRelationAsync(string blueprint, string identifier, string relation, string target, string? runId = null, CancellationToken cancellationToken = default)
    {
        RequireId(target, $"{relation} relation target", "the related entity identifier");
        return UpsertEntityAsync(blueprint, identifier, relations: new JsonObject { [relation] = target }, runId: runId, cancellationToken: cancellationToken);
    }

    /// <summary>GET /v1/blueprints/{blueprint}/entities/{identifier}; null when Port has no such entity.</summary>
    public async Task<PortEntity?> GetEntityAsync(string blueprint, string identifier, CancellationToken cancellationToken = default)
    {
        RequireId(blueprint, "blueprint", "the blueprint identifier");
        RequireId(identifier, "entity identifier", "the entity identifier");
        var path = $"/v1/blueprints/{Escape(blueprint)}/entities/{Escape(identifier)}";
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken, keep: true, notFoundIsNull: true).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        return (await ReadAsync<EntityResponse>(response, path, cancellationToken).ConfigureAwait(false)).Entity;
    }

    private async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(method, path, body, cancellationToken, keep: true).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, bool keep, bool notFoundIsNull = false)
    {
        var what = $"{method} {path.Split('?')[0]}";
        for (var attempt = 0; ; attempt++)
        {
            var token = await TokenAsync(forceRefresh: attempt > 0, cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, new Uri(_options.BaseUrl, path));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: PortJson.Options);
            var response = await CallAsync(request, what, cancellationToken).ConfigureAwait(false);
            // A token can be revoked or expire early; one fresh token is worth a retry, more is not.
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                response.Dispose();
                continue;
            }
            if (response.IsSuccessStatusCode || (notFoundIsNull && response.StatusCode == HttpStatusCode.NotFound)) return response;
            using (response) throw await FailureAsync(response, what, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> TokenAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        await _tokenGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!forceRefresh && _token is not null && _time.GetUtcNow() < _tokenExpires - TokenMargin) return _token;
            const string path = "/v1/auth/access_token";
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.BaseUrl, path))
            {
                Content = JsonContent.Create(new AccessTokenRequest(_options.ClientId, _options.ClientSecret), options: PortJson.Options),
            };
            using var response = await CallAsync(request, "POST " + path, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity)
                throw new PortApiException($"Port rejected the client credentials (POST {path} answered {(int)response.StatusCode}): check PORT_CLIENT_ID and PORT_CLIENT_SECRET against Port's Credentials page and the region's base URL", (int)response.StatusCode, isOutage: false);
            if (!response.IsSuccessStatusCode) throw await FailureAsync(response, "POST " + path, cancellationToken).ConfigureAwait(false);
            var parsed = await ReadAsync<AccessTokenResponse>(response, path, cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrEmpty(parsed.AccessToken))
                throw new PortApiException($"Port answered POST {path} without an accessToken: check the base URL {_options.BaseUrl} is Port's API", (int)response.StatusCode, isOutage: false);
            SecretRedactor.Shared.Add(parsed.AccessToken);
            _token = parsed.AccessToken;
            _tokenExpires = _time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(0, parsed.ExpiresIn));
            return _token;
        }
        finally
        {
            _tokenGate.Release();
        }
    }

    private async Task<HttpResponseMessage> CallAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
            return response;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PortApiException($"Port did not answer {what} within {_options.Timeout.TotalSeconds:0.#} s at {_options.BaseUrl}: Port may be degraded; the promotion itself is unaffected", null, isOutage: true);
        }
        catch (HttpRequestException e)
        {
            throw new PortApiException($"cannot reach Port at {_options.BaseUrl} for {what} ({Reason(e)}): check the network and the base URL (EU accounts use {PortOptions.EuBaseUrl})", null, isOutage: true, e);
        }
    }

    private static async Task<PortApiException> FailureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var detail = await ErrorDetailAsync(response, cancellationToken).ConfigureAwait(false);
        var hint = status switch
        {
            401 or 403 => "check the Port credentials' permissions on this blueprint or run",
            404 => "check the run id (--port-run-id, from port_payload.runId) or the entity and blueprint identifiers",
            422 => "the request does not match Port's schema; check blueprint property and relation names",
            >= 500 => "Port is having trouble; the promotion itself is unaffected",
            _ => "see Port's API reference for this route",
        };
        return new PortApiException($"Port answered {what} with {status}{detail}: {hint}", status, isOutage: status >= 500 || status == 429);
    }

    private static async Task<string> ErrorDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var parts = new[] { "error", "message" }
                .Select(k => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null)
                .Where(s => !string.IsNullOrWhiteSpace(s)).ToArray();
            if (parts.Length == 0) return string.Empty;
            var joined = SecretRedactor.Shared.Redact(string.Join(": ", parts));
            return " (" + (joined.Length > 200 ? joined[..200] + "…" : joined) + ")";
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or InvalidOperationException)
        {
            return string.Empty;
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(PortJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new JsonException("empty body");
        }
        catch (JsonException e)
        {
            throw new PortApiException($"Port's answer to {path.Split('?')[0]} is not the JSON its API documents ({e.Message}): check the base URL points at Port's API", (int)response.StatusCode, isOutage: false, e);
        }
    }

    private static string Reason(HttpRequestException e) =>
        e.HttpRequestError switch
        {
            HttpRequestError.ConnectionError => "connection refused or reset",
            HttpRequestError.NameResolutionError => "host name not found",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.ResponseEnded => "connection closed before a response",
            _ => e.HttpRequestError.ToString(),
        };

    private static string? Redact(string? text) => text is null ? null : SecretRedactor.Shared.Redact(text);

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private static void RequireId(string? value, string what, string fix)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new PromotionException($"Port {what} is empty: pass {fix}");
    }

    /// <summary>Disposes the HTTP client when this client created it.</summary>
    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
        _tokenGate.Dispose();
    }
}

/// <summary>Port refused or could not take a call. <see cref="IsOutage"/> separates "Port is down" from "we asked wrong".</summary>
public sealed class PortApiException : PromotionException
{
    /// <summary>A refused or failed call.</summary>
    /// <param name="message">One line naming the call and the fix.</param>
    /// <param name="statusCode">Port's HTTP status; null when no answer came.</param>
    /// <param name="isOutage">True for no answer, a timeout, 5xx or 429: Port is unavailable rather than the request wrong.</param>
    /// <param name="inner">The transport error, if any.</param>
    public PortApiException(string message, int? statusCode, bool isOutage, Exception? inner = null)
        : base(message, inner!)
    {
        StatusCode = statusCode;
        IsOutage = isOutage;
    }

    /// <summary>Port's HTTP status; null when no answer came (timeout, connection refused).</summary>
    public int? StatusCode { get; }
    /// <summary>True when Port is unavailable (no answer, timeout, 5xx, 429) rather than the request wrong.</summary>
    public bool IsOutage { get; }
}
