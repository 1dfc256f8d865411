using System.Net;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Retries 408, 429 and 5xx answers and dropped connections with exponential backoff and jitter,
/// honouring <c>Retry-After</c> (seconds or an HTTP date). A request whose body is a stream is never
/// replayed here: half of it may already be on the wire, so the blob copier restarts the whole transfer.
/// </summary>
internal sealed class RetryHandler(TransportOptions options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var replayable = IsReplayable(request.Content);
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            // A stalled registry looks like a dropped connection: bound the wait for headers per attempt.
            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptCts.CancelAfter(options.ResponseHeadersTimeout);
            // A streamed body (a blob upload) goes out before the headers come back, however long that takes:
            // the clock restarts with every chunk sent, so only an upload that stops moving is cut off.
            if (!replayable && request.Content is { } body and not ProgressContent)
                request.Content = new ProgressContent(body, () => attemptCts.CancelAfter(options.ResponseHeadersTimeout));
            try
            {
                response = await base.SendAsync(request, attemptCts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && replayable && attempt < options.MaxAttempts)
            {
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!IsRetryableStatus(response.StatusCode) || !replayable || attempt >= options.MaxAttempts)
                return response;

            var delay = RetryAfter(response) ?? Backoff(attempt);
            if (delay > options.MaxRetryAfter) return response; // a registry asking for a very long pause: let the caller report it
            response.Dispose();
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static bool IsReplayable(HttpContent? content) =>
        content is null or ByteArrayContent or ReadOnlyMemoryContent;

    internal static bool IsRetryableStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
            or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    internal static bool IsTransient(Exception ex, CancellationToken caller) =>
        !caller.IsCancellationRequested && ex is HttpRequestException or IOException or TaskCanceledException;

    private TimeSpan Backoff(int attempt)
    {
        var ms = options.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1);
        ms = Math.Min(ms, options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.5 + Random.Shared.NextDouble() / 2));
    }

    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var ra = response.Headers.RetryAfter;
        if (ra is null) return null;
        if (ra.Delta is { } d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        if (ra.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
