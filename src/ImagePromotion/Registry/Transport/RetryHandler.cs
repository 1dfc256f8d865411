using Polly;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Sends each request through <see cref="RegistryRetry.ForRequests"/> (Polly: 408, 429, 5xx and dropped
/// connections retried with backoff or the registry's <c>Retry-After</c>) and bounds every attempt's wait for
/// response headers. A request whose body is a stream goes out once: half of it may already be on the wire,
/// so the blob copier re-opens the source and starts the transfer again instead.
/// </summary>
internal sealed class RetryHandler(TransportOptions options, TransferEvents events) : DelegatingHandler
{
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline = RegistryRetry.ForRequests(options, events);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!IsReplayable(request.Content)) return await AttemptAsync(request, cancellationToken).ConfigureAwait(false);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RegistryRetry.RequestKey, request);
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (ctx, state) => await state.Handler.AttemptAsync(state.Request, ctx.CancellationToken).ConfigureAwait(false),
                context, (Handler: this, Request: request)).ConfigureAwait(false);
        }
        finally { ResilienceContextPool.Shared.Return(context); }
    }

    /// <summary>One try. A stalled registry looks like a dropped connection: its wait for headers is bounded.</summary>
    private async Task<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(options.ResponseHeadersTimeout);
        // A streamed body (a blob upload) goes out before the headers come back, however long that takes:
        // the clock restarts with every chunk sent, so only an upload that stops moving is cut off.
        if (!IsReplayable(request.Content) && request.Content is { } body and not ProgressContent)
            request.Content = new ProgressContent(body, () => attempt.CancelAfter(options.ResponseHeadersTimeout));
        try
        {
            return await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"no answer from {request.RequestUri!.Authority} within {RegistryRetry.Seconds(options.ResponseHeadersTimeout)}", ex);
        }
    }

    internal static bool IsReplayable(HttpContent? content) =>
        content is null or ByteArrayContent or ReadOnlyMemoryContent;
}
