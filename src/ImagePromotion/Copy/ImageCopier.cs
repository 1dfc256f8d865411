using System.Collections.Concurrent;
using System.Diagnostics;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Copy;

/// <summary>
/// Copies an image (a manifest or a whole multi-platform index) to a destination reference with its
/// digest unchanged. Top-down: when the destination already points at the digest, nothing else is
/// read or written. Otherwise blobs go first (bounded parallelism across every platform), then index
/// children by digest, then the top manifest, and the tag last, so a tag never points at an image
/// whose parts are not all there. Registries have no compare-and-swap on tags: the tag is looked at again
/// just before it is written and read back just after, and a move by another run in either gap is a
/// <see cref="PromotionConflictException"/> (SECURITY.md states the window that remains).
/// </summary>
public sealed class ImageCopier
{
    /// <summary>How deep indexes may nest (an index of indexes of …); deeper is refused as hostile.</summary>
    public const int MaxIndexDepth = 16;

    private readonly RegistryTransport _transport;
    private readonly IPipelineLog _log;

    /// <summary>
    /// A copier on <paramref name="transport"/>. Blob start/finish lines, retries and progress of long copies
    /// go to <paramref name="log"/> at normal verbosity (<see cref="TransferLog"/>); a host that renders
    /// progress itself subscribes to <see cref="RegistryTransport.Events"/>.
    /// </summary>
    public ImageCopier(RegistryTransport transport, IPipelineLog log)
    {
        _transport = transport;
        _log = log;
        TransferLog.Attach(transport.Events, log);
    }

    /// <summary>A registry client for <paramref name="registry"/> (<c>host[:port]</c>) on this copier's transport (shared credentials, tokens, connection pool).</summary>
    public RegistryClient Client(string registry) => new(_transport, registry);

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> registry to registry, digest unchanged.</summary>
    /// <param name="source">The image to read, by tag or digest.</param>
    /// <param name="destination">Where to write it: repository and tag.</param>
    /// <param name="options">Dry run, tag guard and move rules, parallelism, retries.</param>
    /// <param name="ct">Cancels the copy; a tag is never left half-written (it is written last, in one request).</param>
    /// <returns>What was done, with counts, bytes and request numbers.</returns>
    /// <exception cref="PromotionException">The source is missing, a blob is corrupt, or the registry refuses a write.</exception>
    /// <exception cref="PromotionConflictException">The destination tag may not move, or another run moved it during the copy.</exception>
    public Task<CopyResult> CopyAsync(ImageReference source, ImageReference destination, CopyOptions options, CancellationToken ct) =>
        CopyAsync(new RegistrySource(Client(source.Registry), source.Repository), source.Identifier, destination, options, ct);

    /// <summary>Copies an image from any source (a registry or an OCI layout) to <paramref name="destination"/>, digest unchanged.</summary>
    /// <param name="source">Where to read from.</param>
    /// <param name="sourceReference">A tag or a digest in <paramref name="source"/>.</param>
    /// <param name="destination">Where to write it: repository and tag.</param>
    /// <param name="options">Dry run, tag guard and move rules, parallelism, retries.</param>
    /// <param name="ct">Cancels the copy; the tag is written last, so cancellation never leaves it pointing at a partial image.</param>
    /// <returns>What was done, with counts, bytes and request numbers.</returns>
    /// <exception cref="PromotionException">The source is missing, a blob is corrupt, or the registry refuses a write.</exception>
    /// <exception cref="PromotionConflictException">The destination tag may not move, or another run moved it during the copy.</exception>
    public async Task<CopyResult> CopyAsync(IImageSource source, string sourceReference, ImageReference destination,
        CopyOptions options, CancellationToken ct)
    {
        var requests = RequestCounter.StartScope();
        var clock = Stopwatch.StartNew();
        var plan = await PlanAsync(source, sourceReference, destination, options, ct).ConfigureAwait(false);
        // A dry run exists to show the plan; a real run keeps it for verbose output.
        foreach (var line in plan.Describe())
            if (options.DryRun) _log.Information(line); else if (!plan.UpToDate) _log.Verbose(line);

        var counts = new ConcurrentDictionary<BlobAction, int>();
        var pushed = 0;
        long uploaded = 0;
        int fallbacks = 0, chunked = 0;
        Digest? written = null;
        if (!plan.UpToDate && !options.DryRun)
        {
            TransferEvents.BeginCopy(destination.ToString());
            var streamed = plan.Blobs.Where(b => b.Action == BlobAction.Copy).ToList();
            _transport.Events.Publish(new CopyStarted(source.Name, destination.ToString(), streamed.Count, streamed.Sum(b => b.Blob.Size)));
            string? failure = null;
            try
            {
                var dest = Client(destination.Registry);
                var meter = new TransferMeter(_transport.Events, destination.ToString(), streamed.Sum(b => b.Blob.Size));
                var blobs = new BlobCopier(source, dest, destination.Repository, options, _log, _transport.Events, meter);
                try { await CopyBlobsAsync(plan, blobs, counts, options, ct).ConfigureAwait(false); }
                finally
                {
                    uploaded = blobs.BytesUploaded;
                    fallbacks = blobs.MountFallbacks;
                    chunked = blobs.ChunkedUploads;
                }

                // Children before parents: images first, then each level of (nested) indexes.
                foreach (var wave in plan.Children.Where(c => !c.AlreadyThere).GroupBy(c => c.Height).OrderBy(g => g.Key))
                {
                    await Task.WhenAll(wave.Select(async child =>
                    {
                        await dest.PutManifestAsync(destination.Repository, child.Manifest.Digest.ToString(), child.Manifest, ct).ConfigureAwait(false);
                        Interlocked.Increment(ref pushed);
                    })).ConfigureAwait(false);
                }

                var racing = options.GuardTag && destination.Tag is not null;
                // Registries have no compare-and-swap on tags: the nearest thing is to look again just before
                // the write. Streaming blobs is the long phase; after mounts or a pure retag the plan's own look
                // is a round trip or two old and serves (a guarded retag stays at four requests, an unguarded one at three).
                if (racing && counts.GetValueOrDefault(BlobAction.Copy) > 0)
                    await EnsureTagUnmovedAsync(dest, destination, plan, ct).ConfigureAwait(false);
                written = await PutTopAsync(dest, destination, plan, ct).ConfigureAwait(false);
                pushed++;
                if (written != plan.Top.Digest)
                    throw new PromotionException($"{destination.Name}:{plan.Tag.Reference} now has digest {written}, not the source's {plan.Top.Digest}: the registry rewrote the manifest; do not use this registry for promotion");
                // A run that wrote between our look and our write wins silently unless we read the tag back.
                if (racing && await dest.HeadManifestAsync(destination.Repository, plan.Tag.Reference, ct).ConfigureAwait(false) is { } after
                    && after.Digest != plan.Top.Digest)
                    throw new PromotionConflictException($"another promotion moved {destination.Name}:{plan.Tag.Reference} to {after.Digest} during this run (this run wrote {plan.Top.Digest}): check which promotion should win and run it again");
            }
            catch (Exception ex)
            {
                failure = ex.Message;
                throw;
            }
            finally
            {
                _transport.Events.Publish(new CopyFinished(destination.ToString(), uploaded, clock.Elapsed, failure));
            }
        }

        return new CopyResult
        {
            Source = $"{source.Name}{(Digest.TryParse(sourceReference, out _) ? "@" : ":")}{sourceReference}",
            Destination = destination.ToString(),
            SourceDigest = plan.Top.Digest.ToString(),
            DestinationDigest = plan.UpToDate ? plan.Top.Digest.ToString() : written?.ToString(),
            PreviousDigest = plan.Tag.Previous?.ToString(),
            MediaType = plan.Top.MediaType,
            DryRun = options.DryRun,
            UpToDate = plan.UpToDate,
            BlobsCopied = counts.GetValueOrDefault(BlobAction.Copy),
            BlobsMounted = counts.GetValueOrDefault(BlobAction.Mount),
            BlobsSkipped = options.DryRun ? 0 : counts.GetValueOrDefault(BlobAction.Skip),
            MountFallbacks = fallbacks,
            ForeignLayersSkipped = plan.Blobs.Count(b => b.Foreign),
            ChunkedUploads = chunked,
            ManifestsPushed = pushed,
            BytesUploaded = uploaded,
            Requests = requests.Counts(),
            Seconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
        };
    }

    /// <summary>
    /// Runs the blob steps, at most <see cref="CopyOptions.MaxParallelism"/> at once. The first blob that fails
    /// for good cancels the others (each cancels its upload session), so a broken destination is not sent
    /// more sessions while the copy is already lost.
    /// </summary>
    private static async Task CopyBlobsAsync(CopyPlan plan, BlobCopier blobs, ConcurrentDictionary<BlobAction, int> counts,
        CopyOptions options, CancellationToken ct)
    {
        using var phase = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var gate = new SemaphoreSlim(Math.Max(1, options.MaxParallelism));
        Exception? first = null;
        await Task.WhenAll(plan.Blobs.Select(async step =>
        {
            try { await gate.WaitAsync(phase.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return; }
            try { counts.AddOrUpdate(await blobs.ExecuteAsync(step, phase.Token).ConfigureAwait(false), 1, (_, n) => n + 1); }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                if (Interlocked.CompareExchange(ref first, ex, null) is null) phase.Cancel();
            }
            finally { gate.Release(); }
        })).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
    }

    /// <summary>Writes the top manifest under the tag; an immutable tag's refusal says so.</summary>
    private static async Task<Digest> PutTopAsync(RegistryClient dest, ImageReference destination, CopyPlan plan, CancellationToken ct)
    {
        try
        {
            return await dest.PutManifestAsync(destination.Repository, plan.Tag.Reference, plan.Top, ct).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (plan.Tag.Previous is { } previous && destination.Tag is not null
                                           && ex.IsRefusal && (ex.Is(RegistryErrorCodes.TagInvalid) || ex.Status is System.Net.HttpStatusCode.PreconditionFailed or System.Net.HttpStatusCode.Conflict))
        {
            throw new PromotionConflictException($"tag {destination.Name}:{plan.Tag.Reference} is immutable in {destination.Registry}: it points at {previous} and the registry refused to point it at {plan.Top.Digest} ({(int)ex.Status!} {ex.ErrorCode}); the blobs and child manifests are there, the tag is unchanged: promote under a new tag");
        }
    }

    private static async Task EnsureTagUnmovedAsync(RegistryClient dest, ImageReference destination, CopyPlan plan, CancellationToken ct)
    {
        var now = (await dest.HeadManifestAsync(destination.Repository, plan.Tag.Reference, ct).ConfigureAwait(false))?.Digest;
        if (now == plan.Tag.Previous || now == plan.Top.Digest) return;
        throw new PromotionConflictException($"another promotion moved {destination.Name}:{plan.Tag.Reference} from {plan.Tag.Previous?.ToString() ?? "(absent)"} to {now?.ToString() ?? "(absent)"} during this run; the tag was not written: check which promotion should win and run it again");
    }

    /// <summary>Reads what is needed to decide and returns the plan; writes nothing.</summary>
    public async Task<CopyPlan> PlanAsync(IImageSource source, string sourceReference, ImageReference destination,
        CopyOptions options, CancellationToken ct)
    {
        var dest = Client(destination.Registry);
        // A destination tag does not depend on the source: across registries, look it up while the source
        // manifest is read, one round trip instead of two (a re-run then costs a single round trip). Inside
        // one registry the two would both meet its auth challenge before either learned it: one after the other.
        var tagLookup = destination.Tag is { } wanted && source.Registry != destination.Registry
            ? dest.HeadManifestAsync(destination.Repository, wanted, ct) : null;
        Manifest top;
        try { top = await source.GetManifestAsync(sourceReference, null, ct).ConfigureAwait(false); }
        catch { if (tagLookup is not null) await Task.WhenAny(tagLookup).ConfigureAwait(false); throw; }
        // The tag is the last thing written; with no tag the digest itself is the reference.
        var reference = destination.Tag ?? top.Digest.ToString();
        if (destination.Digest is { } pinned && pinned != top.Digest)
            throw new PromotionException($"destination {destination} names digest {pinned} but the source is {top.Digest}: drop the digest from the destination or fix it");

        var current = await (tagLookup ?? dest.HeadManifestAsync(destination.Repository, reference, ct)).ConfigureAwait(false);
        var tag = new TagMove(reference, current?.Digest, top.Digest);
        var empty = new CopyPlan(source.Name, destination, top, Array.Empty<ManifestStep>(), Array.Empty<BlobStep>(), tag, UpToDate: true);
        if (tag.IsNoop) return empty;
        if (current is not null && !options.AllowTagMove)
            throw new PromotionConflictException($"tag {destination.Name}:{reference} already points at {current.Digest}, and this environment does not allow moving it: promote under a new tag, or set the environment's tagMayMove to true");

        var children = new List<ManifestStep>();
        var images = new List<Manifest>();
        if (MediaTypes.IsIndex(top.MediaType))
        {
            var walk = new IndexWalk(source, dest, destination, options, ct);
            await walk.ChildrenAsync(top, depth: 1).ConfigureAwait(false);
            children.AddRange(walk.Steps);
            // A child already in the destination brings its blobs (and its own children) with it: skip them unread.
            images.AddRange(walk.Steps.Where(c => !c.AlreadyThere && MediaTypes.IsImageManifest(c.Manifest.MediaType)).Select(c => c.Manifest));
        }
        else
        {
            images.Add(top);
        }

        var blobs = new BlobCopier(source, dest, destination.Repository, options, _log, _transport.Events);
        var unique = images.SelectMany(m => m.Blobs).GroupBy(b => b.Digest).Select(g => g.First()).ToList();
        using (var gate = new SemaphoreSlim(Math.Max(1, options.MaxParallelism)))
        {
            var steps = await Task.WhenAll(unique.Select(async b =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try { return await blobs.PlanAsync(b, ct).ConfigureAwait(false); }
                finally { gate.Release(); }
            })).ConfigureAwait(false);
            return new CopyPlan(source.Name, destination, top, children, steps, tag, UpToDate: false);
        }
    }
}

/// <summary>
/// Reads the manifests below an index, to any depth (an index entry may be an index: GHCR serves such
/// images, pelagos-containers/pelagos#533), once per digest, with bounded parallelism. Each step gets its
/// height so children are pushed before their parents; a subtree already in the destination is not read.
/// </summary>
internal sealed class IndexWalk(IImageSource source, RegistryClient dest, ImageReference destination, CopyOptions options, CancellationToken ct)
{
    private readonly ConcurrentDictionary<Digest, Lazy<Task<ManifestStep>>> _seen = new();
    private readonly SemaphoreSlim _gate = new(Math.Max(1, options.MaxParallelism));
    private readonly bool _sameRepository = source.Registry == destination.Registry && source.Repository == destination.Repository;

    /// <summary>Every manifest below the ones walked, each once.</summary>
    public IEnumerable<ManifestStep> Steps => _seen.Values.Select(l => l.Value.Result);

    /// <summary>Walks an index's entries; returns the height of the highest one (0 when all are images).</summary>
    public async Task<int> ChildrenAsync(Manifest index, int depth)
    {
        if (depth > ImageCopier.MaxIndexDepth)
            throw new PromotionException($"index {source.Name}@{index.Digest} nests indexes more than {ImageCopier.MaxIndexDepth} deep: refusing to copy it (a broken or hostile source)");
        var steps = await Task.WhenAll(index.Manifests.Select(d =>
            _seen.GetOrAdd(d.Digest, _ => new Lazy<Task<ManifestStep>>(() => StepAsync(index, d, depth))).Value)).ConfigureAwait(false);
        return steps.Length == 0 ? 0 : steps.Max(s => s.Height);
    }

    private async Task<ManifestStep> StepAsync(Manifest parent, Descriptor d, int depth)
    {
        if (MediaTypes.IsSchema1(d.MediaType)) throw Manifest.Schema1($"{source.Name}@{d.Digest} (listed by index {parent.Digest})");
        if (!MediaTypes.IsKnownManifest(d.MediaType))
            throw new PromotionException($"index {source.Name}@{parent.Digest} lists {d.Digest} with unsupported media type '{d.MediaType}': only images and indexes are copied");
        Manifest child;
        bool there;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            child = await source.GetManifestAsync(d.Digest.ToString(), d.Digest, ct).ConfigureAwait(false);
            there = _sameRepository || await dest.HeadManifestAsync(destination.Repository, d.Digest.ToString(), ct).ConfigureAwait(false) is not null;
        }
        finally { _gate.Release(); }
        // The slot is released before walking deeper: a parent waiting on its children must not hold one.
        var height = MediaTypes.IsIndex(child.MediaType) && !there ? 1 + await ChildrenAsync(child, depth + 1).ConfigureAwait(false) : 0;
        return new ManifestStep(child, d.Platform, there, height);
    }
}
