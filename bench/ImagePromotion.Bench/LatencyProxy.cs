using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePromotion.Bench;

/// <summary>
/// A streaming reverse proxy in front of one registry that holds every request for a fixed delay before
/// forwarding it, as a cloud registry seen from a CI runner would. The Host header is kept, so the
/// registry builds upload <c>Location</c>s that point back at the proxy; any that name the registry
/// itself are rewritten, so no request of a copy bypasses the delay.
/// </summary>
public sealed class LatencyProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Host", "Content-Length",
    };
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, MaxConnectionsPerServer = 64 })
    { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _upstreamHost;
    private readonly TimeSpan _delay;
    private WebApplication _app = null!;

    private LatencyProxy(string upstreamHost, TimeSpan delay) { _upstreamHost = upstreamHost; _delay = delay; }

    /// <summary><c>127.0.0.1:PORT</c> of the proxy.</summary>
    public string Host { get; private set; } = "";

    public static async Task<LatencyProxy> StartAsync(string upstreamHost, TimeSpan delay, CancellationToken ct)
    {
        var proxy = new LatencyProxy(upstreamHost, delay);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => { k.Limits.MaxRequestBodySize = null; k.AddServerHeader = false; });
        proxy._app = builder.Build();
        proxy._app.Run(proxy.HandleAsync);
        await proxy._app.StartAsync(ct);
        var address = proxy._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        proxy.Host = new Uri(address).Authority;
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        await Task.Delay(_delay, context.RequestAborted);
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{_upstreamHost}{target}");
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            message.Content = new StreamContent(request.Body, 256 * 1024);
            if (request.ContentLength is { } length) message.Content.Headers.ContentLength = length;
        }
        else if (request.ContentLength == 0)
        {
            message.Content = new ByteArrayContent([]);
        }
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name)) continue;
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
                message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
        message.Headers.Host = Host;
        HttpResponseMessage upstream;
        try { upstream = await _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted); }
        catch (HttpRequestException) { context.Response.StatusCode = 502; return; }
        using (upstream)
        {
            var response = context.Response;
            response.StatusCode = (int)upstream.StatusCode;
            foreach (var (name, values) in upstream.Headers.Concat(upstream.Content.Headers))
                if (!HopByHop.Contains(name) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    response.Headers[name] = values.ToArray();
            if (upstream.Headers.Location is { IsAbsoluteUri: true } location && location.Authority == _upstreamHost)
                response.Headers.Location = $"http://{Host}{location.PathAndQuery}";
            if (HttpMethods.IsHead(request.Method)) return;
            await using var body = await upstream.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
                    await response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
