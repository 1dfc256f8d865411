using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>One request through the proxy: what the client sent and what it got back.</summary>
public sealed record ProxiedRequest(string Method, string PathAndQuery, int Status, bool HadAuthorization, FaultAction? Fault);

/// <summary>
/// A loopback HTTP proxy in front of a registry that forwards requests and responses as streams and
/// rewrites upstream <c>Location</c> headers so upload sessions keep going through the proxy. Faults are
/// scripted per method + path (<see cref="Inject"/>); every request is recorded.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    public const int Always = int.MaxValue;
    /// <summary>A manifest PUT by tag (a digest reference has a colon, a tag cannot).</summary>
    public const string TagManifestPath = "^/v2/.+/manifests/[^:/]+$";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection",
        "Proxy-Authenticate", "Proxy-Authorization", "Host",
    };

    private readonly HttpClient _upstreamClient;
    private readonly ConcurrentQueue<ProxiedRequest> _requests = new();
    private readonly List<FaultRule> _rules = [];
    private LoopbackWebHost _host = null!;
    private long _latencyTicks;

    private FaultProxy(Uri upstream, HttpMessageHandler handler, BlobStorageServer blobStorage)
    {
        Upstream = upstream;
        BlobStorage = blobStorage;
        _upstreamClient = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Upstream { get; }
    /// <summary><c>http://127.0.0.1:PORT/</c> – give this to the client under test instead of the registry.</summary>
    public Uri BaseUri => _host.BaseUri;
    public string Host => _host.Host;
    /// <summary>Where <see cref="FaultAction.RedirectToBlobStorage"/> sends clients (another origin).</summary>
    public BlobStorageServer BlobStorage { get; }
    /// <summary>Added before every request is handled (e.g. 40 ms to model a remote registry).</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    public IReadOnlyList<ProxiedRequest> Requests => _requests.ToArray();
    public int RequestCount => _requests.Count;
    public void ResetRequests() => _requests.Clear();

    /// <summary>Proxies a <see cref="RegistryServer"/>, trusting its test CA when it serves TLS.</summary>
    public static Task<FaultProxy> StartAsync(RegistryServer upstream, CancellationToken cancellationToken = default) =>
        StartAsync(upstream.BaseUri, upstream.CreateHttpHandler(), cancellationToken);

    public static async Task<FaultProxy> StartAsync(Uri upstream, HttpMessageHandler? upstreamHandler = null,
        CancellationToken cancellationToken = default)
    {
        var blobStorage = await BlobStorageServer.StartAsync(cancellationToken);
        var proxy = new FaultProxy(upstream, upstreamHandler ?? new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }, blobStorage);
        proxy._host = await LoopbackWebHost.StartAsync(proxy.HandleAsync, cancellationToken);
        return proxy;
    }

    /// <summary>
    /// Scripts a fault for requests with <paramref name="method"/> (null = any) whose path matches the regex
    /// <paramref name="pathPattern"/>: the <paramref name="skip"/> first matches pass, the next
    /// <paramref name="times"/> get the fault (<see cref="Always"/> for every one). Rules are tried in order.
    /// </summary>
    public FaultRule Inject(string? method, string pathPattern, FaultAction action, int times = 1, int skip = 0, string? queryPattern = null)
    {
        var rule = new FaultRule(method, pathPattern, action, times, skip, queryPattern);
        lock (_rules) _rules.Add(rule);
        return rule;
    }

    public void ClearFaults() { lock (_rules) _rules.Clear(); }

    private FaultAction? MatchFault(string method, string path, string query)
    {
        lock (_rules) return _rules.FirstOrDefault(r => r.TryApply(method, path, query))?.Action;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var hadAuthorization = request.Headers.ContainsKey("Authorization");
        var latency = Latency;
        if (latency > TimeSpan.Zero) await Task.Delay(latency, context.RequestAborted);
        var fault = MatchFault(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? "");
        // An immutable tag refuses only a tag that exists; a new tag is written as usual.
        if (fault is ImmutableTagFault && !await UpstreamHasAsync(target, context.RequestAborted)) fault = null;
        try
        {
            switch (fault)
            {
                case StatusFault status:
                    await WriteErrorAsync(context, status);
                    break;
                case RedirectFault:
                    await RedirectAsync(context, target);
                    break;
                case ImmutableTagFault:
                    context.Response.StatusCode = 400;
                    context.Response.ContentType = "application/json";
                    var tag = target[(target.LastIndexOf('/') + 1)..];
                    await context.Response.WriteAsync(JsonSerializer.Serialize(new
                    {
                        errors = new[] { new { code = "TAG_INVALID",
                        message = $"The image tag '{tag}' already exists in the repository and cannot be overwritten because the repository is immutable." } }
                    }), context.RequestAborted);
                    break;
                default:
                    if (fault is StallFault stall) await Task.Delay(stall.Delay, context.RequestAborted);
                    await ForwardAsync(context, target, fault);
                    break;
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested) { }
        finally
        {
            _requests.Enqueue(new ProxiedRequest(request.Method, target, context.Response.StatusCode, hadAuthorization, fault));
        }
    }

    private async Task<bool> UpstreamHasAsync(string target, CancellationToken ct)
    {
        using var head = new HttpRequestMessage(HttpMethod.Head, new Uri(Upstream, target));
        head.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        head.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        head.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        head.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.list.v2+json");
        using var response = await _upstreamClient.SendAsync(head, ct);
        return response.IsSuccessStatusCode;
    }

    private async Task ForwardAsync(HttpContext context, string target, FaultAction? fault)
    {
        if (fault is DropBodyFault) await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        using var upstreamRequest = BuildUpstreamRequest(context, target, dropBody: fault is DropBodyFault);
        HttpResponseMessage upstreamResponse;
        try
        {
            upstreamResponse = await _upstreamClient.SendAsync(upstreamRequest, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            // Upstream down (e.g. the registry was killed): what a real reverse proxy answers.
            context.Response.StatusCode = 502;
            return;
        }
        using (upstreamResponse)
        {
            CopyResponseHeaders(context, upstreamResponse);
            if (HttpMethods.IsHead(context.Request.Method)) return;
            await using var body = await upstreamResponse.Content.ReadAsStreamAsync(context.RequestAborted);
            await CopyBodyAsync(context, body, upstreamResponse.Content.Headers.ContentLength, fault);
        }
    }

    private HttpRequestMessage BuildUpstreamRequest(HttpContext context, string target, bool dropBody = false)
    {
        var request = context.Request;
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(Upstream, target));
        var hasBody = request.ContentLength is not null || request.Headers.TransferEncoding.Count > 0;
        if (hasBody && dropBody)
        {
            message.Content = new ByteArrayContent([]);
        }
        else if (hasBody)
        {
            message.Content = new StreamContent(request.Body);
            if (request.ContentLength is { } length) message.Content.Headers.ContentLength = length;
        }
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            if (dropBody && name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)) continue;
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && message.Content is not null)
                message.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
        return message;
    }

    private void CopyResponseHeaders(HttpContext context, HttpResponseMessage upstream)
    {
        var response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        foreach (var (name, values) in upstream.Headers.Concat(upstream.Content.Headers))
        {
            if (HopByHop.Contains(name)) continue;
            response.Headers[name] = values.ToArray();
        }
        if (upstream.Headers.Location is { IsAbsoluteUri: true } location && location.Authority == Upstream.Authority)
            response.Headers.Location = new Uri(BaseUri, location.PathAndQuery).ToString();
    }

    private static async Task CopyBodyAsync(HttpContext context, Stream body, long? length, FaultAction? fault)
    {
        var limit = fault switch { ResetFault r => r.AfterBytes, TruncateFault t => t.Bytes, _ => long.MaxValue };
        var corruptAt = fault is CorruptFault c ? (c.Offset >= 0 ? c.Offset : (length ?? 0) / 2) : -1;
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            long sent = 0;
            int read;
            while (sent < limit && (read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - sent)), context.RequestAborted)) > 0)
            {
                if (corruptAt >= sent && corruptAt < sent + read) buffer[corruptAt - sent] ^= 0xFF;
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                sent += read;
            }
            await context.Response.Body.FlushAsync(context.RequestAborted);
            // Kestrel closes the connection itself when fewer bytes than Content-Length were written
            // (the truncate case); a reset must not wait for that.
            if (fault is ResetFault) context.Abort();
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private async Task RedirectAsync(HttpContext context, string target)
    {
        using var upstreamRequest = BuildUpstreamRequest(context, target);
        using var upstream = await _upstreamClient.SendAsync(upstreamRequest, HttpCompletionOption.ResponseContentRead, context.RequestAborted);
        if (upstream.StatusCode != System.Net.HttpStatusCode.OK)
        {
            CopyResponseHeaders(context, upstream);
            await upstream.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
            return;
        }
        var bytes = await upstream.Content.ReadAsByteArrayAsync(context.RequestAborted);
        var location = BlobStorage.Put(bytes, upstream.Content.Headers.ContentType?.ToString() ?? "application/octet-stream");
        context.Response.StatusCode = 307;
        context.Response.Headers.Location = location.ToString();
        if (upstream.Headers.TryGetValues("Docker-Content-Digest", out var digest))
            context.Response.Headers["Docker-Content-Digest"] = digest.ToArray();
        context.Response.ContentLength = 0;
    }

    private static Task WriteErrorAsync(HttpContext context, StatusFault fault)
    {
        context.Response.StatusCode = fault.StatusCode;
        if (fault.RetryAfter is not null) context.Response.Headers.RetryAfter = fault.RetryAfter;
        context.Response.ContentType = "application/json";
        var code = fault.Code ?? fault.StatusCode switch { 429 => "TOOMANYREQUESTS", 401 => "UNAUTHORIZED", 403 => "DENIED", 404 => "NOT_FOUND", _ => "UNAVAILABLE" };
        var body = JsonSerializer.Serialize(new { errors = new[] { new { code, message = $"injected fault {fault.StatusCode}", detail = (object?)null } } });
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await BlobStorage.DisposeAsync();
        _upstreamClient.Dispose();
    }
}
