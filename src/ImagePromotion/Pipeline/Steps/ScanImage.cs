using ImagePromotion.Configuration;
using ImagePromotion.Evidence;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>What a scan found, and where its result was attached (null in a dry run).</summary>
public sealed record ScanOutcome(ImageReference Image, ScanResult Result, Descriptor? Evidence);

/// <summary>
/// The scan step: resolves the image to its digest, streams the config and every layer from the registry into
/// the built-in checks (nothing unpacked to disk), runs the external scanners on the exact digest, and attaches
/// the one result to the image as evidence so a later promotion, on any machine, can find it.
/// </summary>
public sealed class ScanImage(PromotionSession session, TimeProvider? clock = null)
{
    private const int MaxConfigBytes = 4 * 1024 * 1024;

    /// <summary>Scans the commit's image of every selected application in the first environment (where PushDev puts them).</summary>
    /// <param name="scannerPath">PATH used to look for scanners (tests); null: this process's PATH.</param>
    /// <param name="selection">The applications whose images are scanned (default all).</param>
    /// <param name="ct">Cancels the scan and stops running scanners.</param>
    public async Task<IReadOnlyList<ScanOutcome>> RunAsync(ReleaseSelection selection, CancellationToken ct, string? scannerPath = null)
    {
        var outcomes = new List<ScanOutcome>();
        foreach (var app in selection.Applications(session.Config))
        foreach (var image in app.Images)
        {
            var reference = session.Reference(app, image, session.Config.First);
            if (session.DryRun && await session.Copier.Client(reference.Registry).HeadManifestAsync(reference.Repository, reference.Identifier, ct).ConfigureAwait(false) is null)
            {
                // The plan of a run that pushes it first: nothing to read yet.
                session.Log.Information($"dry run: would scan {reference} once it is pushed");
                continue;
            }
            outcomes.Add(await RunAsync(reference, ct, scannerPath).ConfigureAwait(false));
        }
        return outcomes;
    }

    /// <summary>Scans <paramref name="reference"/> (a tag or a digest).</summary>
    /// <param name="scannerPath">PATH used to look for scanners (tests); null: this process's PATH.</param>
    /// <param name="reference">The image to scan.</param>
    /// <param name="ct">Cancels the scan and stops running scanners.</param>
    public async Task<ScanOutcome> RunAsync(ImageReference reference, CancellationToken ct, string? scannerPath = null)
    {
        var client = session.Copier.Client(reference.Registry);
        var top = await client.GetManifestAsync(reference.Repository, reference.Identifier, reference.Digest, ct).ConfigureAwait(false);
        if (top is null)
            throw new PromotionException($"{reference} does not exist: push the image first, or pass --image=REF of an existing image");
        var pinned = reference.WithTagAndDigest(reference.Tag, top.Digest);
        var settings = session.Config.Scan;
        session.Log.Information($"scan: {pinned}");

        var scan = new ImageScan(top.Digest, settings?.Policy, settings?.Rules, clock, session.Log);
        var images = new List<Manifest>();
        if (MediaTypes.IsIndex(top.MediaType))
        {
            foreach (var child in top.Manifests.Where(m => MediaTypes.IsImageManifest(m.MediaType)))
                images.Add(await client.GetManifestAsync(reference.Repository, child.Digest.ToString(), child.Digest, ct).ConfigureAwait(false)
                    ?? throw new PromotionException($"{reference.Name}@{child.Digest} (a platform of {pinned}) is missing: the image is incomplete; push it again"));
        }
        else images.Add(top);

        foreach (var manifest in images)
        {
            var config = manifest.Config!;
            if (config.Size > MaxConfigBytes)
                throw new PromotionException($"config {config.Digest} of {pinned} is {config.Size} bytes: not an image configuration");
            // Read within the config's stated size, verified against its digest: a body that never ends costs no more.
            var bytes = await client.ReadBlobAsync(reference.Repository, config, MaxConfigBytes, ct).ConfigureAwait(false);
            scan.InspectConfig(bytes, $"config {config.Digest}");
            foreach (var layer in manifest.Blobs.Skip(1))
            {
                // Streamed straight from the registry into the tar reader: a layer is never held whole or unpacked.
                using var response = await client.GetBlobAsync(reference.Repository, layer.Digest, ct).ConfigureAwait(false);
                await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                await scan.ScanLayerAsync(layer.Digest, layer.MediaType, stream, ct).ConfigureAwait(false);
            }
        }

        var runner = new ScannerRunner(session.Log) { Timeout = settings?.Timeout ?? TimeSpan.FromMinutes(10), PathVariable = scannerPath };
        var credential = session.Transport.Credentials.Get(reference.Registry);
        var credentials = credential is { Username: { } user, Password: { } password } ? new ScannerCredentials(user, password) : null;
        var scanTarget = reference.WithDigest(top.Digest);
        if (settings?.Scanners is { Count: 0 })
            session.Log.Information("scan: no external scanner configured (scan.scanners is empty): built-in checks only");
        else
            await scan.RunScannersAsync(runner, scanTarget, settings?.Scanners, credentials, ct).ConfigureAwait(false);
        var result = scan.Complete();

        Descriptor? evidence = null;
        if (session.DryRun)
        {
            // Later phases of the dry run judge their scan gates on this result, as the real run's would.
            session.Planned.AddScan(scanTarget, result);
            session.Log.Information($"dry run: would attach the scan result to {scanTarget}; nothing written");
        }
        else
        {
            // The full result as a file a CI run can upload next to promotions.jsonl.
            Directory.CreateDirectory(session.ArtifactsDirectory);
            await File.WriteAllBytesAsync(Path.Combine(session.ArtifactsDirectory, "scan-result.json"), result.ToJsonBytes(), ct).ConfigureAwait(false);
            evidence = await new EvidenceStore(session.Transport, session.Log, clock, session.Signers)
                .PushAsync(scanTarget, new EvidencePiece(EvidenceTypes.ScanResult, result.ToJsonBytes()), ct).ConfigureAwait(false);
            session.Log.Information($"scan: result attached to {scanTarget.Name}@{top.Digest} as {evidence.Digest}");
        }
        return new ScanOutcome(pinned, result, evidence);
    }

    /// <summary>Throws the one-line failure a host exits with when a scan did not pass.</summary>
    public static void ThrowIfFailed(IEnumerable<ScanOutcome> outcomes)
    {
        foreach (var outcome in outcomes) ThrowIfFailed(outcome);
    }

    /// <summary>Throws the one-line failure a host exits with when the scan did not pass.</summary>
    public static void ThrowIfFailed(ScanOutcome? outcome)
    {
        if (outcome is null || outcome.Result.Passed) return;
        var reasons = outcome.Result.Reasons.Take(3).ToArray();
        throw new PromotionException($"scan of {outcome.Image} FAILED: {string.Join("; ", reasons)}: fix the image, or adjust scan.thresholds / scan.allowlist (with a reason and an expiry)");
    }
}
