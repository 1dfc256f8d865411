using ImagePromotion.Configuration;
using ImagePromotion.Evidence;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>What a scan found, and where its result was attached (null in a dry run).</summary>
/// <param name="Image">The image scanned, pinned by digest.</param>
/// <param name="Result">The result (the existing one when <paramref name="Reused"/>).</param>
/// <param name="Evidence">The artifact manifest holding it; null in a dry run.</param>
/// <param name="Reused">True when a fresh passing result signed by this job's key under the same policy was already attached: nothing was scanned or written.</param>
public sealed record ScanOutcome(ImageReference Image, ScanResult Result, Descriptor? Evidence, bool Reused = false);

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

        var scan = new ImageScan(top.Digest, settings?.Policy, settings?.Rules, clock, session.Log).Requiring(settings?.Scanners);
        if (!session.DryRun && await FreshResultAsync(reference.WithDigest(top.Digest), ct).ConfigureAwait(false) is { } fresh)
            return fresh with { Image = pinned };
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

    /// <summary>
    /// How long a passing result counts as fresh for <see cref="FreshResultAsync"/>: half the shortest <c>scan.maxAge</c>
    /// any gate sets (so a promotion after a skipped scan still has time), 12 h when no gate sets one.
    /// </summary>
    public TimeSpan Freshness => session.Config.EffectiveGates.Values.Select(g => g.ScanMaxAge).OfType<TimeSpan>().DefaultIfEmpty(TimeSpan.FromHours(24)).Min() / 2;

    /// <summary>
    /// Scanning is idempotent: when the digest already carries a passing result signed by this job's scan key, judged
    /// under the same rules, thresholds, allowlist and scanners, and younger than <see cref="Freshness"/>, that result
    /// stands and nothing new is attached. Without a scan key nothing can be recognised as ours: it scans.
    /// </summary>
    private async Task<ScanOutcome?> FreshResultAsync(ImageReference image, CancellationToken ct)
    {
        if (session.Signers.For(Evidence.Attestations.KeyRole.Scan) is not { } signer) return null;
        var settings = session.Config.Scan;
        var wanted = ScanJudgement.Of(settings?.Policy ?? ScanPolicy.Default, settings?.Rules ?? BuiltInRuleSettings.Default, settings?.Scanners).Fingerprint;
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        var pieces = await new EvidenceStore(session.Transport, session.Log, clock)
            .ReadAsync(image, Evidence.Attestations.EvidenceKind.ScanResult, TrustedKeys.ForEveryKind([signer.PublicKey]), ct).ConfigureAwait(false);
        foreach (var piece in pieces.Where(p => p.IsTrusted).Reverse())
        {
            ScanResult result;
            try { result = ScanResult.FromJson(piece.Predicate!, $"scan result {piece.Entry.Manifest.Digest}"); }
            catch (PromotionException) { continue; }
            var age = now - result.ScannedAt;
            if (!result.Passed || result.Judgement?.Fingerprint != wanted || age > Freshness || age < TimeSpan.FromMinutes(-5)) continue;
            session.Log.Information($"scan: {image.Name}@{image.Digest} already has a passing scan result signed by key {signer.KeyId} under the same rules, "
                + $"{Gates.StagingGate.Span(age)} old (fresh for {Gates.StagingGate.Span(Freshness)}): {piece.Entry.Manifest.Digest}; nothing scanned, nothing attached");
            return new ScanOutcome(image, result, piece.Entry.Manifest, Reused: true);
        }
        return null;
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
