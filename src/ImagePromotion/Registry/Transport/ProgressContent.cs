using System.Net;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Wraps a streamed request body and reports every chunk that goes out. Response headers only come
/// after the body, so a timeout armed once at the start of a streamed upload would cut off any big layer
/// on a slow line; re-armed on progress, it fires only when nothing moved for the whole period.
/// </summary>
internal sealed class ProgressContent : HttpContent
{
    private const int ChunkSize = 128 * 1024;
    private readonly HttpContent _inner;
    private readonly Action _progress;

    public ProgressContent(HttpContent inner, Action progress)
    {
        _inner = inner;
        _progress = progress;
        foreach (var header in inner.Headers) Headers.TryAddWithoutValidation(header.Key, header.Value);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[ChunkSize];
        int n;
        while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            _progress();
        }
        _progress();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _inner.Headers.ContentLength ?? 0;
        return _inner.Headers.ContentLength is not null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
