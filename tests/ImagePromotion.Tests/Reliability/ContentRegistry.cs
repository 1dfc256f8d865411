using System.Collections.Concurrent;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// Serves manifests a distribution registry refuses to store (an unknown media type, over 4 MiB), with
/// the headers of the distribution API (<c>Docker-Content-Digest</c>, <c>Content-Type</c>), so the
/// engine can be shown what a less strict registry would hand it. Read-only: any write is a 405.
/// </summary>
internal sealed class ContentRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string MediaType, bool Chunked)> _manifests = new();
    private LoopbackWebHost _host = null!;

    public string Host => _host.Host;

    public static async Task<ContentRegistry> StartAsync(CancellationToken ct)
    {
        var registry = new ContentRegistry();
        registry._host = await LoopbackWebHost.StartAsync(registry.HandleAsync, ct);
        return registry;
    }

    /// <summary><paramref name="chunked"/>: no Content-Length, so only reading can tell the size.</summary>
    public Digest Serve(string repository, string tag, byte[] bytes, string mediaType, bool chunked = false)
    {
        _manifests[$"/v2/{repository}/manifests/{tag}"] = (bytes, mediaType, chunked);
        return Digest.Sha256(bytes);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            context.Response.StatusCode = 405;
            return;
        }
        if (request.Path == "/v2/") return;
        if (!_manifests.TryGetValue(request.Path.Value ?? "", out var m))
        {
            context.Response.StatusCode = 404;
            return;
        }
        context.Response.ContentType = m.MediaType;
        context.Response.Headers["Docker-Content-Digest"] = Digest.Sha256(m.Bytes).ToString();
        if (!m.Chunked) context.Response.ContentLength = m.Bytes.Length;
        if (HttpMethods.IsGet(request.Method))
            for (var offset = 0; offset < m.Bytes.Length; offset += 64 * 1024)
                await context.Response.Body.WriteAsync(m.Bytes.AsMemory(offset, Math.Min(64 * 1024, m.Bytes.Length - offset)), context.RequestAborted);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
