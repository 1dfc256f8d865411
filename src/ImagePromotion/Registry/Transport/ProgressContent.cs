using System.Net;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Wraps a streamed request body and reports every chunk that goes out. Response headers only come
/// after the body, so a timeout armed once at the start of a streamed upload would cut off any big layer
/// on a slow line; re-armed on progress, it fires only when nothing moved for the whole period.
/// </summary>
internal sealed class ProgressContent(HttpContent inner, Action progress) : DelegatingContent(inner)
{
    private const int ChunkSize = 128 * 1024;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await Inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[ChunkSize];
        int n;
        while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            progress();
        }
        progress();
    }
}
