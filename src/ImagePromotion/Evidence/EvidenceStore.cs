using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Evidence;

/// <summary>A piece of evidence found next to an image: the referrer descriptor (its artifact manifest).</summary>
public sealed record EvidenceEntry(Descriptor Manifest, string? ArtifactType, DateTimeOffset? Created)
{
    public string Kind => EvidenceTypes.Describe(ArtifactType);
}

/// <summary>A piece of evidence read back and checked: it refers to the image and its content hashes right.</summary>
public sealed record VerifiedEvidence(EvidenceEntry Entry, bool Verified, string Detail, byte[]? Content);

/// <summary>
/// Evidence stored in the registry next to the image it is about, as OCI artifacts whose <c>subject</c> is the
/// image digest, so any later job on any machine can list and verify it with nothing but registry access.
/// Uses the referrers API where the registry has it and the spec's tag fallback where it does not.
/// </summary>
public sealed class EvidenceStore(RegistryTransport transport, IPipelineLog log, TimeProvider? clock = null)
{
    /// <summary>Evidence is small JSON; a bigger blob is not ours and is not read into memory.</summary>
    public const long MaxContentBytes = 16 * 1024 * 1024;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Attaches a piece of evidence to <paramref name="image"/> (a reference with a digest).</summary>
    public async Task<Descriptor> PushAsync(ImageReference image, EvidencePiece piece, CancellationToken ct)
    {
        var digest = RequireDigest(image);
        var referrers = new ReferrersClient(transport, image.Registry);
        var subject = await referrers.Client.HeadManifestAsync(image.Repository, digest.ToString(), ct).ConfigureAwait(false)
            ?? throw new PromotionException($"{image.Name}@{digest} does not exist: push or promote the image before attaching evidence to it");
        if (subject.Size < 0)
            subject = (await referrers.Client.GetManifestAsync(image.Repository, digest.ToString(), digest, ct).ConfigureAwait(false))!.ToDescriptor();

        var artifact = EvidenceArtifact.Build(subject, piece, _clock.GetUtcNow());
        await referrers.EnsureBlobAsync(image.Repository, EvidenceArtifact.EmptyDescriptor, EvidenceArtifact.EmptyConfig, ct).ConfigureAwait(false);
        await referrers.EnsureBlobAsync(image.Repository, artifact.Blobs[1], piece.Content, ct).ConfigureAwait(false);
        await PutReferrerAsync(referrers, image.Repository, digest, artifact, ct).ConfigureAwait(false);
        log.Verbose($"evidence: {EvidenceTypes.Describe(piece.ArtifactType)} {artifact.Digest} attached to {image.Name}@{digest}");
        return artifact.ToDescriptor();
    }

    /// <summary>The evidence attached to the image's digest, optionally only one artifact type, oldest first.</summary>
    public async Task<IReadOnlyList<EvidenceEntry>> ListAsync(ImageReference image, string? artifactType, CancellationToken ct)
    {
        var digest = RequireDigest(image);
        var referrers = new ReferrersClient(transport, image.Registry);
        var found = await referrers.GetReferrersAsync(image.Repository, digest, artifactType, ct).ConfigureAwait(false);
        if (found is null)
        {
            var (entries, _) = await referrers.GetFallbackAsync(image.Repository, digest, ct).ConfigureAwait(false);
            found = entries.Where(d => artifactType is null || d.ArtifactType == artifactType).ToArray();
        }
        return found.Select(d => new EvidenceEntry(d, d.ArtifactType, Created(d)))
            .OrderBy(e => e.Created ?? DateTimeOffset.MinValue).ThenBy(e => e.Manifest.Digest.ToString(), StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Reads one piece back and checks it: the manifest matches its digest, its subject is this image's digest,
    /// its artifact type is what the index says, and its content blob matches its digest and size.
    /// </summary>
    public async Task<VerifiedEvidence> VerifyAsync(ImageReference image, EvidenceEntry entry, CancellationToken ct)
    {
        var digest = RequireDigest(image);
        var referrers = new ReferrersClient(transport, image.Registry);
        Manifest? artifact;
        try
        {
            artifact = await referrers.Client.GetManifestAsync(image.Repository, entry.Manifest.Digest.ToString(), entry.Manifest.Digest, ct).ConfigureAwait(false);
        }
        catch (PromotionException ex) { return new VerifiedEvidence(entry, false, ex.Message, null); }
        if (artifact is null) return new VerifiedEvidence(entry, false, $"manifest {entry.Manifest.Digest} is listed but missing from {image.Name}", null);
        if (artifact.Subject is not { } subject)
            return new VerifiedEvidence(entry, false, $"manifest {artifact.Digest} has no subject", null);
        if (subject.Digest != digest)
            return new VerifiedEvidence(entry, false, $"manifest {artifact.Digest} refers to {subject.Digest}, not {digest}", null);
        if (entry.ArtifactType is not null && artifact.ArtifactType != entry.ArtifactType)
            return new VerifiedEvidence(entry, false, $"manifest {artifact.Digest} is a {artifact.ArtifactType}, but is listed as {entry.ArtifactType}", null);
        var layers = artifact.Blobs.Skip(1).ToArray();
        if (layers.Length != 1)
            return new VerifiedEvidence(entry, false, $"manifest {artifact.Digest} has {layers.Length} layers; evidence has exactly one", null);
        byte[] content;
        try { content = await referrers.ReadBlobAsync(image.Repository, layers[0], MaxContentBytes, ct).ConfigureAwait(false); }
        catch (PromotionException ex) { return new VerifiedEvidence(entry, false, ex.Message, null); }
        var inner = EvidenceContent.Check(artifact.ArtifactType, content, digest);
        return inner is null
            ? new VerifiedEvidence(entry, true, $"refers to {digest}; content {layers[0].Digest} verified", content)
            : new VerifiedEvidence(entry, false, inner, content);
    }

    /// <summary>Lists and verifies every piece of one artifact type; only verified content is returned.</summary>
    public async Task<IReadOnlyList<VerifiedEvidence>> ReadVerifiedAsync(ImageReference image, string artifactType, CancellationToken ct)
    {
        var list = await ListAsync(image, artifactType, ct).ConfigureAwait(false);
        var result = new List<VerifiedEvidence>();
        foreach (var entry in list)
        {
            var v = await VerifyAsync(image, entry, ct).ConfigureAwait(false);
            if (v.Verified) result.Add(v);
            else log.Warning($"evidence {entry.Manifest.Digest} on {image.Name}@{image.Digest} is ignored: {v.Detail}");
        }
        return result;
    }

    /// <summary>
    /// Copies every referrer of <paramref name="source"/>'s digest to <paramref name="destination"/>'s repository
    /// (same digest): blobs, then the artifact manifest, then the fallback index where the destination needs one.
    /// Evidence travels with the digest. Returns how many pieces were copied (already present ones are not).
    /// </summary>
    public async Task<int> CopyAsync(ImageReference source, ImageReference destination, CancellationToken ct)
    {
        var digest = RequireDigest(source);
        if (source.Registry == destination.Registry && source.Repository == destination.Repository) return 0;
        var from = new ReferrersClient(transport, source.Registry);
        var to = new ReferrersClient(transport, destination.Registry);
        var entries = await ListAsync(source, null, ct).ConfigureAwait(false);
        var present = (await ListAsync(destination.WithDigest(digest), null, ct).ConfigureAwait(false)).Select(e => e.Manifest.Digest).ToHashSet();
        var copied = 0;
        foreach (var entry in entries.Where(e => !present.Contains(e.Manifest.Digest)))
        {
            var artifact = await from.Client.GetManifestAsync(source.Repository, entry.Manifest.Digest.ToString(), entry.Manifest.Digest, ct).ConfigureAwait(false);
            if (artifact is null || artifact.Subject?.Digest != digest || !MediaTypes.IsImageManifest(artifact.MediaType))
            {
                log.Warning($"evidence {entry.Manifest.Digest} of {source.Name}@{digest} was not copied: it is not an artifact manifest about this digest");
                continue;
            }
            if (artifact.Blobs.FirstOrDefault(b => b.Size > MaxContentBytes) is { } big)
            {
                // Not evidence of ours (a large SBOM, say): the copy engine is the tool for it, not this small-blob path.
                log.Warning($"referrer {entry.Manifest.Digest} ({entry.Kind}) of {digest} was not copied: its blob {big.Digest} is {big.Size} bytes, over the {MaxContentBytes}-byte evidence limit");
                continue;
            }
            foreach (var blob in artifact.Blobs)
            {
                var content = await from.ReadBlobAsync(source.Repository, blob, MaxContentBytes, ct).ConfigureAwait(false);
                await to.EnsureBlobAsync(destination.Repository, blob, content, ct).ConfigureAwait(false);
            }
            await PutReferrerAsync(to, destination.Repository, digest, artifact, ct).ConfigureAwait(false);
            copied++;
        }
        if (copied > 0) log.Information($"evidence: {copied} piece(s) copied with {digest} to {destination.Name}");
        return copied;
    }

    private static async Task PutReferrerAsync(ReferrersClient referrers, string repository, Digest subject, Manifest artifact, CancellationToken ct)
    {
        var indexed = await referrers.PutManifestAsync(repository, artifact, ct).ConfigureAwait(false);
        // OCI-Subject means the registry maintains the referrers list; without it the client keeps the tag schema index.
        if (!indexed && await referrers.GetReferrersAsync(repository, subject, null, ct).ConfigureAwait(false) is null)
            await referrers.AddToFallbackAsync(repository, subject, EvidenceArtifact.ReferrerDescriptor(artifact), ct).ConfigureAwait(false);
    }

    private static DateTimeOffset? Created(Descriptor d) =>
        d.Annotations?.GetValueOrDefault(EvidenceArtifact.CreatedAnnotation) is { } text && DateTimeOffset.TryParse(text,
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static Digest RequireDigest(ImageReference image) =>
        image.Digest ?? throw new PromotionException($"'{image}' has no digest: evidence belongs to a digest; pass REF@sha256:…");
}
