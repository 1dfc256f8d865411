using System.Net;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Gives every response body an idle timeout: a read that gets no byte for <see cref="TransportOptions.BodyIdleTimeout"/>
/// fails with a <see cref="TimeoutException"/> naming the host, so a registry (or the storage it redirects to)
/// that drips a body or stops half-way never hangs a run. Progress resets the clock: a big blob on a slow
/// line is fine as long as bytes keep coming.
/// </summary>
internal sealed class IdleTimeoutHandler(TransportOptions options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (request.Method != HttpMethod.Head)
            response.Content = new IdleTimeoutContent(response.Content, options.BodyIdleTimeout, request.RequestUri!.Authority);
        return response;
    }

    private sealed class IdleTimeoutContent(HttpContent inner, TimeSpan idle, string host) : DelegatingContent(inner)
    {
        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new IdleTimeoutStream(await Inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), idle, host);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class IdleTimeoutStream(Stream inner, TimeSpan idle, string host) : ReadOnlyStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(idle);
            try { return await inner.ReadAsync(buffer, cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{host} sent nothing for {RegistryRetry.Seconds(idle)} in the middle of a response", ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
