using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>A request to the blob storage server with every header it carried.</summary>
public sealed record BlobStorageRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers)
{
    public bool HadAuthorization => Headers.ContainsKey("Authorization");
}

/// <summary>
/// Stands in for the object storage (S3, GCS, CDN) a registry redirects blob downloads to. It lives on
/// another port, i.e. another origin, and records request headers so a test can prove that a client
/// did not forward the registry's Authorization header across the redirect.
/// </summary>
public sealed class BlobStorageServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (byte[] Content, string ContentType)> _objects = new();
    private readonly ConcurrentQueue<BlobStorageRequest> _requests = new();
    private LoopbackWebHost _host = null!;

    private BlobStorageServer() { }

    public Uri BaseUri => _host.BaseUri;
    /// <summary>
    /// When set, every request is answered 401 with this <c>WWW-Authenticate</c> value: storage (or an attacker
    /// a registry redirects to) asking for credentials of its own.
    /// </summary>
    public string? Challenge { get; set; }
    public IReadOnlyList<BlobStorageRequest> Requests => _requests.ToArray();

    public static async Task<BlobStorageServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new BlobStorageServer();
        server._host = await LoopbackWebHost.StartAsync(server.HandleAsync, cancellationToken);
        return server;
    }

    /// <summary>Stores bytes and returns a presigned-looking URL for them.</summary>
    public Uri Put(byte[] content, string contentType = "application/octet-stream")
    {
        var key = Guid.NewGuid().ToString("N");
        _objects[key] = (content, contentType);
        return new Uri(BaseUri, $"objects/{key}?X-Amz-Signature={Guid.NewGuid():N}&X-Amz-Expires=300");
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        _requests.Enqueue(new BlobStorageRequest(request.Method, request.Path + request.QueryString,
            request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        if (Challenge is { } challenge)
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = challenge;
            return;
        }
        var key = request.Path.Value?.Split('/').LastOrDefault() ?? "";
        if (!_objects.TryGetValue(key, out var blob) || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            context.Response.StatusCode = 404;
            return;
        }
        // An open-ended range (bytes=N-) is what a client resuming a download sends.
        var start = 0;
        var range = request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') &&
            int.TryParse(range[6..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var from) && from < blob.Content.Length)
        {
            start = from;
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{blob.Content.Length - 1}/{blob.Content.Length}";
        }
        context.Response.ContentType = blob.ContentType;
        context.Response.ContentLength = blob.Content.Length - start;
        context.Response.Headers.AcceptRanges = "bytes";
        if (HttpMethods.IsGet(request.Method))
            await context.Response.Body.WriteAsync(blob.Content.AsMemory(start), context.RequestAborted);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
