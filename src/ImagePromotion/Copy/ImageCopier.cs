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
public sealed class ImageCopier(RegistryTransport transport, IPipelineLog log)
{
    public RegistryClient Client(string registry) => new(transport, registry);

    public Task<CopyResult> CopyAsync(ImageReference source, ImageReference destination, CopyOptions options, CancellationToken ct) =>
        CopyAsync(new RegistrySource(Client(source.Registry), source.Repository), source.Identifier, destination, options, ct);

    public async Task<CopyResult> CopyAsync(IImageSource source, string sourceReference, ImageReference destination,
        CopyOptions options, CancellationToken ct)
    {
        var requests = RequestCounter.StartScope();
        var clock = Stopwatch.StartNew();
        var plan = await PlanAsync(source, sourceReference, destination, options, ct).ConfigureAwait(false);
        // A dry run exists to show the plan; a real run keeps it for verbose output.
        foreach (var line in plan.Describe())
            if (options.DryRun) log.Information(line); else if (!plan.UpToDate) log.Verbose(line);

        var counts = new ConcurrentDictionary<BlobAction, int>();
        var pushed = 0;
        long uploaded = 0;
        Digest? written = null;
        if (!plan.UpToDate && !options.DryRun)
        {
            var dest = Client(destination.Registry);
            var blobs = new BlobCopier(source, dest, destination.Repository, options, log);
            using var gate = new SemaphoreSlim(Math.Max(1, options.MaxParallelism));
            await Task.WhenAll(plan.Blobs.Select(async step =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try { counts.AddOrUpdate(await blobs.ExecuteAsync(step, ct).ConfigureAwait(false), 1, (_, n) => n + 1); }
                finally { gate.Release(); }
            })).ConfigureAwait(false);
            uploaded = blobs.BytesUploaded;

            await Task.WhenAll(plan.Children.Where(c => !c.AlreadyThere).Select(async child =>
            {
                await dest.PutManifestAsync(destination.Repository, child.Manifest.Digest.ToString(), child.Manifest, ct).ConfigureAwait(false);
                Interlocked.Increment(ref pushed);
            })).ConfigureAwait(false);

            var racing = options.GuardTag && destination.Tag is not null;
            // Registries have no compare-and-swap on tags: the nearest thing is to look again just before
            // the write. Streaming blobs is the long phase; after mounts or a pure retag the plan's own look
            // is a round trip or two old and serves (a guarded retag stays at four requests, an unguarded one at three).
            if (racing && counts.GetValueOrDefault(BlobAction.Copy) > 0)
                await EnsureTagUnmovedAsync(dest, destination, plan, ct).ConfigureAwait(false);
            written = await dest.PutManifestAsync(destination.Repository, plan.Tag.Reference, plan.Top, ct).ConfigureAwait(false);
            pushed++;
            if (written != plan.Top.Digest)
                throw new PromotionException($"{destination.Name}:{plan.Tag.Reference} now has digest {written}, not the source's {plan.Top.Digest}: the registry rewrote the manifest; do not use this registry for promotion");
            // A run that wrote between our look and our write wins silently unless we read the tag back.
            if (racing && await dest.HeadManifestAsync(destination.Repository, plan.Tag.Reference, ct).ConfigureAwait(false) is { } after
                && after.Digest != plan.Top.Digest)
                throw new PromotionConflictException($"another promotion moved {destination.Name}:{plan.Tag.Reference} to {after.Digest} during this run (this run wrote {plan.Top.Digest}): check which promotion should win and run it again");
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
            ManifestsPushed = pushed,
            BytesUploaded = uploaded,
            Requests = requests.Counts(),
            Seconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
        };
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
            var sameRepository = source.Registry == destination.Registry && source.Repository == destination.Repository;
            using var gate = new SemaphoreSlim(Math.Max(1, options.MaxParallelism));
            var loaded = await Task.WhenAll(top.Manifests.Select(async d =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    if (!MediaTypes.IsKnownManifest(d.MediaType))
                        throw new PromotionException($"index {source.Name}@{top.Digest} lists {d.Digest} with unsupported media type '{d.MediaType}': only images and indexes are copied");
                    var child = await source.GetManifestAsync(d.Digest.ToString(), d.Digest, ct).ConfigureAwait(false);
                    if (MediaTypes.IsIndex(child.MediaType))
                        throw new PromotionException($"index {source.Name}@{top.Digest} nests another index {d.Digest}: nested indexes are not supported");
                    var there = sameRepository || await dest.HeadManifestAsync(destination.Repository, d.Digest.ToString(), ct).ConfigureAwait(false) is not null;
                    return new ManifestStep(child, d.Platform, there);
                }
                finally { gate.Release(); }
            })).ConfigureAwait(false);
            children.AddRange(loaded);
            // A child already in the destination brings its blobs with it: skip them unread.
            images.AddRange(loaded.Where(c => !c.AlreadyThere).Select(c => c.Manifest));
        }
        else
        {
            images.Add(top);
        }

        var blobs = new BlobCopier(source, dest, destination.Repository, options, log);
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
