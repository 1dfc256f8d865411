using ImagePromotion.Logging;
using ImagePromotion.Registry;

namespace ImagePromotion.Copy;

/// <summary>
/// Moves one blob into the destination repository: mount inside one registry, otherwise stream the
/// source GET straight into the destination PUT (never the whole blob in memory or on disk), verifying
/// size and digest on the way. A failed transfer restarts whole, from a new GET and a new upload session.
/// </summary>
internal sealed class BlobCopier(IImageSource source, RegistryClient destination, string repository, CopyOptions options, IPipelineLog log)
{
    private long _bytesUploaded;
    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);

    /// <summary>Plans a blob: mount when source and destination share a registry, else HEAD decides copy or skip.</summary>
    public async Task<BlobStep> PlanAsync(Descriptor blob, CancellationToken ct)
    {
        if (source.Registry == destination.Registry && source.Repository == repository)
            return new BlobStep(blob, BlobAction.Skip, "same repository");
        // Inside one registry a mount is one request whether or not the blob is already there, where
        // a HEAD first would cost two for every missing blob.
        if (source.Registry == destination.Registry && source.Repository is { } from)
            return new BlobStep(blob, BlobAction.Mount, $"from {from}");
        if (await destination.BlobExistsAsync(repository, blob.Digest, ct).ConfigureAwait(false))
            return new BlobStep(blob, BlobAction.Skip, "already in destination");
        return new BlobStep(blob, BlobAction.Copy, $"streamed from {source.Name}");
    }

    /// <summary>Carries out a planned step; returns what actually happened (a refused mount becomes a copy).</summary>
    public async Task<BlobAction> ExecuteAsync(BlobStep step, CancellationToken ct)
    {
        if (step.Action == BlobAction.Skip) return BlobAction.Skip;
        Uri? location = null;
        if (step.Action == BlobAction.Mount)
        {
            var (mounted, uploadLocation) = await destination.MountBlobAsync(repository, step.Blob.Digest, source.Repository!, ct).ConfigureAwait(false);
            if (mounted) return BlobAction.Mount;
            // 202: the registry would not mount (no access to the source, other storage) but opened an upload.
            log.Verbose($"registry {destination.Registry} declined to mount {step.Blob.Digest}; uploading it");
            location = uploadLocation;
        }
        await TransferAsync(step.Blob, location, ct).ConfigureAwait(false);
        return BlobAction.Copy;
    }

    private async Task TransferAsync(Descriptor blob, Uri? location, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            VerifyingStream? verifying = null;
            try
            {
                // The source GET and the upload session are independent: open both at once (one round trip, not two).
                var opening = source.OpenBlobAsync(blob, ct);
                try { location ??= await destination.StartUploadAsync(repository, ct).ConfigureAwait(false); }
                catch { await CloseQuietlyAsync(opening).ConfigureAwait(false); throw; }
                await using var src = await opening.ConfigureAwait(false);
                verifying = new VerifyingStream(src.Stream, blob);
                var content = new StreamContent(verifying, 128 * 1024);
                content.Headers.ContentLength = blob.Size;
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
                await destination.CompleteUploadAsync(repository, location, blob.Digest, content, ct).ConfigureAwait(false);
                if (verifying.Failure is { } f) throw new PromotionException(f) { Transient = true };
                Interlocked.Add(ref _bytesUploaded, blob.Size);
                return;
            }
            catch (Exception ex) when (attempt < options.BlobAttempts && !ct.IsCancellationRequested && IsRetryable(ex, verifying))
            {
                log.Verbose($"blob {blob.Digest}: attempt {attempt} failed ({Reason(ex, verifying)}); retrying from the start");
                location = null;
                await Task.Delay(TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt - 1)), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (verifying?.Failure is { } failure && ex is not OperationCanceledException)
            {
                throw new PromotionException($"{failure}; copy from {source.Name} stopped and nothing was tagged: check the source registry");
            }
        }
    }

    private static async Task CloseQuietlyAsync(Task<BlobStream> opening)
    {
        try { await (await opening.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false); }
        catch (Exception) { /* the upload failure is the error worth reporting */ }
    }

    private static bool IsRetryable(Exception ex, VerifyingStream? verifying) =>
        verifying?.Failure is not null || ex switch
        {
            PromotionException p => p.Transient,
            HttpRequestException or IOException => true,
            _ => false,
        };

    private static string Reason(Exception ex, VerifyingStream? verifying) => verifying?.Failure ?? ex.Message;
}
