using System.Diagnostics;
using System.Net;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Profiles;
using ImagePromotion.Registry.Transport;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace ImagePromotion.Copy;

/// <summary>
/// Moves one copy's blobs into the destination repository: mount inside one registry (a refused mount falls
/// back to an upload), otherwise stream the source GET straight into the destination upload (never the
/// whole blob in memory or on disk), verifying size and digest on the way. Uploads are monolithic or chunked
/// as the destination's <see cref="RegistryBehaviour"/> says, switching for the rest of the run when the
/// registry refuses one way. A failed transfer restarts whole (Polly retry: the registry's <c>Retry-After</c>
/// or a backoff), from a new source stream and a new upload session; the failed session is cancelled.
/// Non-distributable layers are left out unless <see cref="CopyOptions.CopyForeignLayers"/> asks otherwise.
/// </summary>
internal sealed class BlobCopier
{
    private readonly IImageSource _source;
    private readonly RegistryClient _destination;
    private readonly string _repository;
    private readonly CopyOptions _options;
    private readonly IPipelineLog _log;
    private readonly TransferEvents _events;
    private readonly ResiliencePipeline _pipeline;
    private readonly TransferMeter? _meter;
    private long _bytesUploaded;
    private int _mountFallbacks;
    private int _chunked;
    private volatile Exception? _lastFailure;

    public BlobCopier(IImageSource source, RegistryClient destination, string repository, CopyOptions options, IPipelineLog log,
        TransferEvents events, TransferMeter? meter = null)
    {
        _source = source; _destination = destination; _repository = repository; _options = options; _log = log;
        _events = events; _meter = meter;
        var builder = new ResiliencePipelineBuilder();
        if (options.BlobAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.BlobAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = TimeSpan.FromSeconds(10),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && IsRetryable(ex, args.Context.CancellationToken)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception switch
                {
                    RegistryException { RetryAfter: { } wait } => wait,
                    UploadMethodChangedException => TimeSpan.Zero,
                    _ => (TimeSpan?)null,
                }),
                OnRetry = args =>
                {
                    var blob = args.Context.Properties.GetValue(BlobKey, null!);
                    _events.Publish(new RetryScheduled(_destination.Registry, $"copy blob {CopyPlan.Short(blob.Digest)} ({HumanSize.Bytes(blob.Size)})",
                        args.AttemptNumber + 2, options.BlobAttempts, args.RetryDelay, RegistryRetry.Innermost(args.Outcome.Exception!)));
                    return default;
                },
            });
        }
        // A destination that fails every transfer (storage full) is not asked again and again: once more
        // transfers than run at once failed with none succeeding, the rest of the copy fails fast.
        _pipeline = builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 1.0,
            MinimumThroughput = Math.Max(2, options.MaxParallelism + 1),
            SamplingDuration = TimeSpan.FromMinutes(5),
            BreakDuration = TimeSpan.FromHours(1),
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex and not UploadMethodChangedException
                && IsRetryable(ex, args.Context.CancellationToken)),
        }).Build();
    }

    private static readonly ResiliencePropertyKey<Descriptor> BlobKey = new("image-promotion.blob");

    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);
    public int MountFallbacks => Volatile.Read(ref _mountFallbacks);
    public int ChunkedUploads => Volatile.Read(ref _chunked);

    private RegistryBehaviour Behaviour => _destination.Behaviour;

    /// <summary>
    /// Plans a blob: a non-distributable layer is skipped (unless asked for and in the source); inside one
    /// registry a mount; else a HEAD decides copy or skip.
    /// </summary>
    public async Task<BlobStep> PlanAsync(Descriptor blob, CancellationToken ct)
    {
        var foreign = MediaTypes.IsNonDistributable(blob.MediaType);
        if (foreign && !_options.CopyForeignLayers)
            return new BlobStep(blob, BlobAction.Skip, $"non-distributable layer: not required in the destination (digest kept; fetched from {Urls(blob)})") { Foreign = true };
        if (_source.Registry == _destination.Registry && _source.Repository == _repository)
            return new BlobStep(blob, BlobAction.Skip, "same repository");
        if (foreign && !await _source.HasBlobAsync(blob, ct).ConfigureAwait(false))
            return new BlobStep(blob, BlobAction.Skip, $"non-distributable layer the source does not hold (digest kept; fetched from {Urls(blob)})") { Foreign = true };
        // Inside one registry a mount is one request whether or not the blob is already there, where
        // a HEAD first would cost two for every missing blob.
        if (_source.Registry == _destination.Registry && _source.Repository is { } from && Behaviour.TryMounts)
            return new BlobStep(blob, BlobAction.Mount, $"from {from}");
        if (await _destination.BlobExistsAsync(_repository, blob.Digest, ct).ConfigureAwait(false))
            return new BlobStep(blob, BlobAction.Skip, "already in destination");
        return new BlobStep(blob, BlobAction.Copy, $"streamed from {_source.Name}");
    }

    private static string Urls(Descriptor blob) => blob.Urls is { Count: > 0 } u ? string.Join(", ", u) : "its urls";

    /// <summary>Carries out a planned step; returns what actually happened (a declined or refused mount becomes a copy).</summary>
    public async Task<BlobAction> ExecuteAsync(BlobStep step, CancellationToken ct)
    {
        if (step.Action == BlobAction.Skip) return BlobAction.Skip;
        UploadSession? session = null;
        if (step.Action == BlobAction.Mount)
        {
            if (!Behaviour.TryMounts)
            {
                Interlocked.Increment(ref _mountFallbacks);
            }
            else
            {
                try
                {
                    // Like a new upload session, a declined mount's session must be known to be cancelled.
                    ct.ThrowIfCancellationRequested();
                    session = await _destination.MountBlobAsync(_repository, step.Blob.Digest, _source.Repository!, CancellationToken.None).ConfigureAwait(false);
                    if (session is null) return BlobAction.Mount;
                    if (ct.IsCancellationRequested)
                    {
                        await _destination.CancelUploadAsync(_repository, session).ConfigureAwait(false);
                        ct.ThrowIfCancellationRequested();
                    }
                    // 202: the registry would not mount (other storage, a blob no manifest references) but opened an upload.
                    _log.Verbose($"registry {_destination.Registry} declined to mount {step.Blob.Digest}; uploading it");
                }
                catch (RegistryException ex) when (ex.Operation == RegistryOperation.MountBlob && ex.IsRefusal)
                {
                    // GitLab's token service granting one scope (estesp/manifest-tool#53), Harbor's 401 for a project
                    // it cannot see (goharbor/harbor#17097), a 403 or 404: any refusal is answered by uploading, and
                    // the rest of the run stops asking this registry to mount.
                    Behaviour.MountRefused();
                    _log.Verbose($"registry {_destination.Registry} refused to mount {step.Blob.Digest} ({(int)ex.Status!} {ex.ErrorCode}); uploading it and every further blob");
                }
                Interlocked.Increment(ref _mountFallbacks);
            }
        }
        await TransferAsync(step.Blob, session, ct).ConfigureAwait(false);
        return BlobAction.Copy;
    }

    private async Task TransferAsync(Descriptor blob, UploadSession? mountSession, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(BlobKey, blob);
        var attempt = 0;
        try
        {
            await _pipeline.ExecuteAsync(async c =>
            {
                var session = attempt++ == 0 ? mountSession : null;
                await AttemptAsync(blob, session, attempt, c.CancellationToken).ConfigureAwait(false);
            }, context).ConfigureAwait(false);
        }
        catch (BrokenCircuitException) when (_lastFailure is { } last)
        {
            var final = Final(last);
            throw new PromotionException($"{final.Message} (copy stopped: every recent transfer to {_destination.Registry} failed)", final)
            {
                Transient = final is PromotionException { Transient: true },
            };
        }
        catch (Exception ex) when (ex is SourceBrokeException or UploadMethodChangedException)
        {
            throw Final(ex);
        }
        finally { ResilienceContextPool.Shared.Return(context); }
    }

    /// <summary>One whole transfer: a new source stream and, unless given, a new upload session; the session is cancelled on failure.</summary>
    private async Task AttemptAsync(Descriptor blob, UploadSession? session, int attempt, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        _events.Publish(new BlobStarted(_destination.Registry, _repository, blob.Digest, blob.Size, attempt));
        var progress = new BlobProgressReporter(_events, _meter, blob, clock);
        VerifyingStream? verifying = null;
        try
        {
            // The source GET and the upload session are independent: open both at once (one round trip, not two).
            var opening = _source.OpenBlobAsync(blob, ct);
            try
            {
                // A session the registry opened while we stopped listening could never be cancelled: the POST
                // runs to its answer (bounded by the transport's timeouts), then a cancelled copy cancels it.
                ct.ThrowIfCancellationRequested();
                session ??= await _destination.StartUploadAsync(_repository, CancellationToken.None).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
            }
            catch { await CloseQuietlyAsync(opening).ConfigureAwait(false); throw; }
            await using (var src = await opening.ConfigureAwait(false))
            {
                verifying = new VerifyingStream(src.Stream, blob, progress.Report);
                var how = await UploadAsync(blob, session, verifying, ct).ConfigureAwait(false);
                session = null;
                Interlocked.Add(ref _bytesUploaded, blob.Size);
                progress.Done();
                _events.Publish(new BlobFinished(_destination.Registry, _repository, blob.Digest, blob.Size, clock.Elapsed,
                    HumanSize.PerSecond(blob.Size, clock.Elapsed), how));
            }
        }
        catch (Exception ex)
        {
            progress.Undo();
            if (session is not null) await _destination.CancelUploadAsync(_repository, session).ConfigureAwait(false);
            // The upload fails with the read error inside it, which would name the destination; the source broke.
            var failure = verifying?.Failure is { } f && ex is not OperationCanceledException ? new SourceBrokeException(f, ex) : ex;
            _lastFailure = failure;
            if (ReferenceEquals(failure, ex)) throw;
            throw failure;
        }
    }

    /// <summary>Sends the bytes the way the destination takes them; returns how, for the finish line.</summary>
    private async Task<string> UploadAsync(Descriptor blob, UploadSession session, VerifyingStream verifying, CancellationToken ct)
    {
        if (Behaviour.Upload == UploadMethod.Chunked)
        {
            await UploadChunkedAsync(blob, session, verifying, ct).ConfigureAwait(false);
            Interlocked.Increment(ref _chunked);
            return "uploaded in chunks";
        }
        var content = new StreamContent(verifying, 128 * 1024);
        content.Headers.ContentLength = blob.Size;
        // zot refuses a monolithic PUT without it (containerd/containerd#4017).
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        try
        {
            await _destination.CompleteUploadAsync(_repository, session, blob.Digest, content, ct).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (verifying.Verified && RefusesMonolithic(ex) && Behaviour.MonolithicRefused())
        {
            // We sent the right bytes and the registry did not take them in one PUT (a registry that only counts
            // PATCHed data, pulp/pulp_container#1274): chunked from now on, this blob again from a new stream.
            _log.Information($"registry {_destination.Registry} refused a monolithic upload ({(int)ex.Status!} {ex.ErrorCode}); using chunked uploads (PATCH, then PUT) from now on");
            throw new UploadMethodChangedException(ex);
        }
        if (verifying.Failure is { } f) throw new SourceBrokeException(f, null);
        return "uploaded";
    }

    private static bool RefusesMonolithic(RegistryException ex) =>
        ex.Operation == RegistryOperation.CompleteUpload && ex.IsRefusal
        && (ex.Is(RegistryErrorCodes.DigestInvalid) || ex.Is(RegistryErrorCodes.SizeInvalid) || ex.Is(RegistryErrorCodes.BlobUploadInvalid)
            || ex.Is(RegistryErrorCodes.Unsupported)
            || ex.Status is HttpStatusCode.MethodNotAllowed or HttpStatusCode.LengthRequired or HttpStatusCode.RequestEntityTooLarge
                or HttpStatusCode.UnsupportedMediaType);

    /// <summary>PATCH chunks of the source stream (all of it in one unless the registry bounds the chunk size), then an empty PUT.</summary>
    private async Task UploadChunkedAsync(Descriptor blob, UploadSession session, VerifyingStream verifying, CancellationToken ct)
    {
        var max = Behaviour.MaxChunkBytes;
        var chunkSize = max > 0 ? Math.Max(max, Math.Min(Behaviour.MinChunkBytes, blob.Size)) : blob.Size;
        long offset = 0;
        while (offset < blob.Size)
        {
            var length = Math.Min(chunkSize, blob.Size - offset);
            var chunk = new StreamContent(new SliceStream(verifying, length), 128 * 1024);
            chunk.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            try
            {
                session = await _destination.UploadChunkAsync(_repository, session, offset, chunk, length, blob.Digest, ct).ConfigureAwait(false);
            }
            catch (RegistryException ex) when (ex.Status is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.RequestedRangeNotSatisfiable
                                               && Behaviour.ChunkTooLarge(length))
            {
                // GHCR's 4 MiB per request (oras-project/rust-oci-client#35): smaller chunks from now on.
                _log.Information($"registry {_destination.Registry} refused a {HumanSize.Bytes(length)} chunk; sending chunks of {HumanSize.Bytes(Behaviour.MaxChunkBytes)}");
                throw new UploadMethodChangedException(ex);
            }
            offset += length;
        }
        // Reading past the end makes the stream check the size and digest before the registry commits the blob.
        if (await verifying.ReadAsync(new byte[1], ct).ConfigureAwait(false) != 0 || !verifying.Verified)
            throw new SourceBrokeException(verifying.Failure ?? $"blob {blob.Digest} is longer than its descriptor's {blob.Size} bytes", null);
        await _destination.FinishChunkedUploadAsync(_repository, session, blob.Digest, ct).ConfigureAwait(false);
    }

    /// <summary>What the caller sees of a failure: the source's fault named as such, the registry's error as it was.</summary>
    private Exception Final(Exception ex) => ex switch
    {
        SourceBrokeException s => new PromotionException($"{s.Message}; copy from {_source.Name} stopped and nothing was tagged: check the source registry", s),
        UploadMethodChangedException { InnerException: { } inner } => inner,
        _ => ex,
    };

    private static async Task CloseQuietlyAsync(Task<BlobStream> opening)
    {
        try { await (await opening.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false); }
        catch (Exception) { /* the upload failure is the error worth reporting */ }
    }

    private bool IsRetryable(Exception ex, CancellationToken ct) =>
        !ct.IsCancellationRequested && ex switch
        {
            UploadMethodChangedException or SourceBrokeException => true,
            // A registry asking for a longer pause than we wait gets its answer reported, not waited out.
            RegistryException { RetryAfter: { } wait } when wait > _destination.MaxRetryAfter => false,
            PromotionException p => p.Transient,
            HttpRequestException or IOException or TimeoutException => true,
            _ => false,
        };

    /// <summary>The source stream broke or did not match its descriptor: worth a new read, and reported as the source's fault.</summary>
    private sealed class SourceBrokeException(string message, Exception? inner) : Exception(message, inner);

    /// <summary>The destination refused this way of uploading; the behaviour switched, so the blob goes again at once.</summary>
    private sealed class UploadMethodChangedException(RegistryException inner) : Exception(inner.Message, inner);
}
