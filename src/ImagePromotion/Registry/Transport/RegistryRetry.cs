using System.Globalization;
using System.Net;
using Polly;
using Polly.Retry;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// The one retry policy of the engine, built on Polly: which failures are worth another try, how long to
/// wait (the registry's <c>Retry-After</c>, seconds or HTTP date, up to <see cref="TransportOptions.MaxRetryAfter"/>;
/// else exponential backoff with jitter from <see cref="TransportOptions.InitialBackoff"/> to
/// <see cref="TransportOptions.MaxBackoff"/>), and a <see cref="RetryScheduled"/> event for every retry, which
/// the log writer prints as "retrying (n/N) in …: reason". Used per request by <see cref="RetryHandler"/> and
/// per blob transfer by the blob copier (a streamed body is re-opened from its source, never replayed).
/// </summary>
public static class RegistryRetry
{
    /// <summary>408, 429 and the 5xx a proxy or an overloaded registry answers: transient by status.</summary>
    public static bool IsRetryableStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
            or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>A dropped connection, a reset or a registry that did not answer in time; never the caller's own cancellation.</summary>
    public static bool IsTransient(Exception ex, CancellationToken caller) =>
        !caller.IsCancellationRequested && ex is HttpRequestException or IOException or TimeoutException
            or TaskCanceledException { InnerException: TimeoutException };

    /// <summary>The wait a response asks for: <c>Retry-After</c> as seconds or as an HTTP date (never negative), or null.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
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

    /// <summary>"1.5 s", "120 ms", "2 min": how a wait reads in a retry line.</summary>
    public static string Seconds(TimeSpan t) => t.TotalMilliseconds switch
    {
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms"),
        < 120_000 => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.#} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMinutes:0.#} min"),
    };

    /// <summary>The request pipeline: retries transient answers and exceptions of replayable requests.</summary>
    internal static ResiliencePipeline<HttpResponseMessage> ForRequests(TransportOptions options, TransferEvents events) =>
        options.MaxAttempts <= 1 ? ResiliencePipeline<HttpResponseMessage>.Empty : new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, options.MaxAttempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.InitialBackoff,
                MaxDelay = options.MaxBackoff,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: { } ex } => IsTransient(ex, args.Context.CancellationToken),
                    // A registry asking for a very long pause gets its answer reported at once, not waited out.
                    { Result: { } r } => IsRetryableStatus(r.StatusCode) && !(RetryAfter(r) > options.MaxRetryAfter),
                    _ => false,
                }),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } r ? RetryAfter(r) : null),
                OnRetry = args =>
                {
                    var request = args.Context.Properties.GetValue(RequestKey, null!);
                    events.Publish(new RetryScheduled(request.RequestUri!.Authority, $"{request.Method} {Describe(request.RequestUri)}",
                        args.AttemptNumber + 2, options.MaxAttempts, args.RetryDelay, Reason(args.Outcome)));
                    return default;
                },
            })
            .Build();

    internal static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("image-promotion.request");

    /// <summary>One line for a failed outcome: "429 TOOMANYREQUESTS (Retry-After 3 s)", "503 Service Unavailable", or the exception's innermost message.</summary>
    public static string Reason(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Result: { } r } => $"{(int)r.StatusCode} {r.ReasonPhrase}{(RetryAfter(r) is { } wait ? $", Retry-After {Seconds(wait)}" : "")}",
        { Exception: { } ex } => Innermost(ex),
        _ => "failed",
    };

    internal static string Innermost(Exception ex)
    {
        if (ex is TimeoutException) return ex.Message.TrimEnd('.');
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex.Message.TrimEnd('.');
    }

    /// <summary><c>/v2/team/app/blobs/uploads/…</c> without the query: enough to say which request, never a signed URL's secrets.</summary>
    internal static string Describe(Uri uri)
    {
        var path = uri.AbsolutePath;
        var uploads = path.IndexOf("/blobs/uploads/", StringComparison.Ordinal);
        return uploads >= 0 ? path[..(uploads + "/blobs/uploads/".Length)] + "…" : path;
    }
}
