using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Evidence;

/// <summary>How a referrer holds its content.</summary>
public enum EvidenceFormat
{
    /// <summary>A Sigstore bundle: a signed in-toto statement (what this version writes when it has the role's key).</summary>
    SigstoreBundle,
    /// <summary>A bare in-toto statement (written without a key): never trusted.</summary>
    Statement,
    /// <summary>The unsigned JSON earlier versions wrote (scan result, approval, promotion record): never trusted.</summary>
    Legacy,
    /// <summary>Someone else's referrer (a cosign signature, an SBOM, another predicate type): not evidence of this pipeline.</summary>
    Other,
}

/// <summary>A piece of evidence found next to an image: the referrer descriptor (its artifact manifest) and what the index says it is.</summary>
public sealed record EvidenceEntry(Descriptor Manifest, string? ArtifactType, DateTimeOffset? Created)
{
    /// <summary>How the referrer holds its content, from its artifact type: a bundle, a bare statement, earlier unsigned JSON, or someone else's.</summary>
    public EvidenceFormat Format => ArtifactType switch
    {
        EvidenceTypes.Bundle => EvidenceFormat.SigstoreBundle,
        EvidenceTypes.Statement => EvidenceFormat.Statement,
        _ when EvidenceKind.FromLegacyArtifactType(ArtifactType) is not null => EvidenceFormat.Legacy,
        _ => EvidenceFormat.Other,
    };

    /// <summary>The predicate type the index annotations claim (cosign's and BuildKit's annotation names).</summary>
    public string? PredicateType => Manifest.Annotations?.GetValueOrDefault(EvidenceAnnotations.BundlePredicateType)
        ?? Manifest.Annotations?.GetValueOrDefault(EvidenceAnnotations.StatementPredicateType);

    /// <summary>The kind the index claims: a claim until the piece is judged.</summary>
    public EvidenceKind? Kind => Format == EvidenceFormat.Legacy ? EvidenceKind.FromLegacyArtifactType(ArtifactType) : EvidenceKind.FromPredicateType(PredicateType);

    /// <summary>What the piece is, for listings: the claimed kind's name, else the predicate type, else the artifact type.</summary>
    public string Description => Kind?.Name ?? (PredicateType is { } p ? "attestation " + p : EvidenceTypes.Describe(ArtifactType));
}

/// <summary>
/// A piece read back and checked for its structure: the manifest matches its digest, its subject is this image's digest,
/// its one layer matches its descriptor, and the content it carries is about this digest. <see cref="Content"/> is the
/// predicate JSON (for a bundle: as the unverified payload says it; only a trusted verdict makes it count).
/// </summary>
public sealed record VerifiedEvidence(EvidenceEntry Entry, bool Verified, string Detail, byte[]? Content)
{
    /// <summary>The statement the piece carries (bundles and statements), as written.</summary>
    public InTotoStatement? Statement { get; init; }
    /// <summary>The layer's bytes as stored: the bundle JSON, the statement JSON or the legacy JSON.</summary>
    public byte[]? Raw { get; init; }
    /// <summary>When not verified: other subject (the piece is about another digest) or malformed.</summary>
    internal EvidenceTrust Failure { get; init; } = EvidenceTrust.Malformed;
}

/// <summary>A piece with its verdict. <see cref="Predicate"/> is the predicate JSON; it may count only when the verdict is trusted.</summary>
public sealed record JudgedEvidence(EvidenceEntry Entry, EvidenceVerdict Verdict, byte[]? Predicate)
{
    /// <summary>True only when the verdict is <see cref="EvidenceTrust.Trusted"/>: the predicate may then count for a gate.</summary>
    public bool IsTrusted => Verdict.IsTrusted;
}

/// <summary>
/// Evidence stored in the registry next to the image it is about, as OCI artifacts whose <c>subject</c> is the image
/// digest, so any later job on any machine can list and verify it with nothing but registry access. Each piece is an
/// in-toto statement about the image, signed into a Sigstore bundle with the key of the role that vouches for it (laid
/// out as cosign's <c>--new-bundle-format</c> attaches bundles). Uses the referrers API where the registry has it and
/// the spec's tag fallback where it does not (with overflow tags where the registry's tags are immutable).
/// </summary>
public sealed class EvidenceStore(RegistryTransport transport, IPipelineLog log, TimeProvider? clock = null, EvidenceSigners? signers = null)
{
    /// <summary>Evidence is small JSON; a bigger blob is not ours and is not read into memory.</summary>
    public const long MaxContentBytes = 16 * 1024 * 1024;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly EvidenceSigners _signers = signers ?? EvidenceSigners.None;

    /// <summary>Attaches a piece named by its earlier artifact type (see <see cref="EvidenceTypes"/>) to <paramref name="image"/> (a reference with a digest).</summary>
    public Task<Descriptor> PushAsync(ImageReference image, EvidencePiece piece, CancellationToken ct)
    {
        var kind = EvidenceKind.FromLegacyArtifactType(piece.ArtifactType)
            ?? throw new PromotionException($"'{piece.ArtifactType}' is not a kind of evidence this pipeline writes: use one of EvidenceTypes");
        return AttachAsync(image, kind, piece.Content, piece.Annotations, piece.Role, ct);
    }

    /// <summary>
    /// Makes an in-toto statement about <paramref name="image"/> with <paramref name="predicate"/> (JSON), signs it with the
    /// key of <paramref name="role"/> (default the kind's) when this job holds it, else attaches it unsigned and says so,
    /// and attaches it to the digest. When the same statement signed by the same key is already attached, nothing is
    /// written and that piece is returned (a re-run writes nothing).
    /// </summary>
    public async Task<Descriptor> AttachAsync(ImageReference image, EvidenceKind kind, byte[] predicate,
        IReadOnlyDictionary<string, string>? annotations, KeyRole? role, CancellationToken ct)
    {
        var digest = RequireDigest(image);
        var statement = InTotoStatement.About(image, kind, predicate);
        var statementBytes = statement.ToJsonBytes();
        var statementDigest = Digest.Sha256(statementBytes).ToString();
        var signer = _signers.For(role ?? kind.Role);
        var signerId = signer?.KeyId ?? "unsigned";

        foreach (var existing in await ListAsync(image, kind, ct).ConfigureAwait(false))
        {
            if (existing.Manifest.Annotations?.GetValueOrDefault(EvidenceAnnotations.StatementDigest) != statementDigest
                || existing.Manifest.Annotations?.GetValueOrDefault(EvidenceAnnotations.Signer) != signerId) continue;
            // Annotations are only a claim: the piece must really be that statement under that key, or it is written anew.
            var judged = await JudgeAsync(image, existing, signer is null ? TrustedKeys.None : TrustedKeys.ForEveryKind([signer.PublicKey]), kind, ct).ConfigureAwait(false);
            var same = signer is null ? judged.Verdict.Trust == EvidenceTrust.Unsigned && judged.Verdict.Statement is { } s && s.ToJsonBytes().AsSpan().SequenceEqual(statementBytes)
                : judged.IsTrusted && judged.Verdict.Statement!.ToJsonBytes().AsSpan().SequenceEqual(statementBytes);
            if (!same) continue;
            log.Verbose($"evidence: this {kind} is already attached to {image.Name}@{digest} as {existing.Manifest.Digest}: nothing written");
            return existing.Manifest;
        }

        var all = new Dictionary<string, string>(annotations ?? new Dictionary<string, string>())
        {
            [EvidenceAnnotations.StatementDigest] = statementDigest,
            [EvidenceAnnotations.Signer] = signerId,
        };
        EvidencePiece piece;
        if (signer is not null)
        {
            all[EvidenceAnnotations.BundleContent] = "dsse-envelope";
            all[EvidenceAnnotations.BundlePredicateType] = kind.PredicateType;
            piece = new EvidencePiece(EvidenceTypes.Bundle, signer.SignStatement(statement).ToJsonBytes()) { Annotations = all };
        }
        else
        {
            all[EvidenceAnnotations.StatementPredicateType] = kind.PredicateType;
            piece = new EvidencePiece(EvidenceTypes.Statement, statementBytes) { Annotations = all };
            var r = role ?? kind.Role;
            log.Warning($"the {kind} for {image.Name}@{digest} is attached UNSIGNED: this job has no {r.ToString().ToLowerInvariant()} key "
                + $"({EvidenceSigners.Variable(r)} or {EvidenceSigners.FileVariable(r)}); gates that count trusted evidence only will ignore it");
        }
        var pushed = await PushArtifactAsync(image, digest, piece, ct).ConfigureAwait(false);
        log.Verbose($"evidence: {kind} {pushed.Digest} attached to {image.Name}@{digest}" + (signer is null ? " unsigned" : $", signed by key {signer.KeyId}"));
        return pushed;
    }

    private async Task<Descriptor> PushArtifactAsync(ImageReference image, Digest digest, EvidencePiece piece, CancellationToken ct)
    {
        var referrers = new ReferrersClient(transport, image.Registry);
        var subject = await referrers.Client.HeadManifestAsync(image.Repository, digest.ToString(), ct).ConfigureAwait(false)
            ?? throw new PromotionException($"{image.Name}@{digest} does not exist: push or promote the image before attaching evidence to it");
        if (subject.Size < 0)
            subject = (await referrers.Client.GetManifestAsync(image.Repository, digest.ToString(), digest, ct).ConfigureAwait(false))!.ToDescriptor();
        var artifact = EvidenceArtifact.Build(subject, piece, _clock.GetUtcNow());
        await referrers.EnsureBlobAsync(image.Repository, EvidenceArtifact.EmptyDescriptor, EvidenceArtifact.EmptyConfig, ct).ConfigureAwait(false);
        await referrers.EnsureBlobAsync(image.Repository, artifact.Blobs[1], piece.Content, ct).ConfigureAwait(false);
        await PutReferrersAsync(referrers, image.Repository, digest, [artifact], ct).ConfigureAwait(false);
        return artifact.ToDescriptor();
    }

    /// <summary>The evidence attached to the image's digest, optionally only one artifact type (a legacy type names its kind in every format), oldest first.</summary>
    public async Task<IReadOnlyList<EvidenceEntry>> ListAsync(ImageReference image, string? artifactType, CancellationToken ct)
    {
        if (EvidenceKind.FromLegacyArtifactType(artifactType) is { } kind) return await ListAsync(image, kind, ct).ConfigureAwait(false);
        var all = await ListAllAsync(image, artifactType, ct).ConfigureAwait(false);
        return all.Where(e => artifactType is null || e.ArtifactType == artifactType).ToArray();
    }

    /// <summary>The pieces that claim to be of <paramref name="kind"/> (any format), oldest first; null: every referrer.</summary>
    public async Task<IReadOnlyList<EvidenceEntry>> ListAsync(ImageReference image, EvidenceKind? kind, CancellationToken ct)
    {
        var all = await ListAllAsync(image, null, ct).ConfigureAwait(false);
        return kind is null ? all : all.Where(e => e.Kind == kind).ToArray();
    }

    private async Task<IReadOnlyList<EvidenceEntry>> ListAllAsync(ImageReference image, string? serverFilter, CancellationToken ct)
    {
        var digest = RequireDigest(image);
        var referrers = new ReferrersClient(transport, image.Registry);
        var found = await referrers.GetReferrersAsync(image.Repository, digest, serverFilter, ct).ConfigureAwait(false)
            ?? (await referrers.GetFallbackAsync(image.Repository, digest, ct).ConfigureAwait(false)).Entries;
        return found.Select(d => new EvidenceEntry(d, d.ArtifactType, Created(d)))
            .OrderBy(e => e.Created ?? DateTimeOffset.MinValue).ThenBy(e => e.Manifest.Digest.ToString(), StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Reads one piece back and checks its structure: the manifest matches its digest, its subject is this image's digest,
    /// its artifact type is what the index says, its content blob matches its digest and size, and what it carries is
    /// about this digest. Says nothing about who wrote it: that is <see cref="JudgeAsync"/>.
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
            return new VerifiedEvidence(entry, false, $"manifest {artifact.Digest} refers to {subject.Digest}, not {digest}", null) { Failure = EvidenceTrust.OtherSubject };
        if (entry.ArtifactType is not null && artifact.ArtifactType != entry.ArtifactType)
            return new VerifiedEvidence(entry, false, $"manifest {artifact.Digest} is a {artifact.ArtifactType}, but is listed as {entry.ArtifactType}", null);
        var layers = artifact.Blobs.Skip(1).ToArray();
        if (layers.Length != 1)
            return new VerifiedEvidence(entry, false, $"manifest {artifact.Digest} has {layers.Length} layers; evidence has exactly one", null);
        byte[] raw;
        try { raw = await referrers.ReadBlobAsync(image.Repository, layers[0], MaxContentBytes, ct).ConfigureAwait(false); }
        catch (PromotionException ex) { return new VerifiedEvidence(entry, false, ex.Message, null); }

        InTotoStatement? statement = null;
        byte[] content = raw;
        string? legacyType = artifact.ArtifactType;
        if (entry.Format is EvidenceFormat.SigstoreBundle or EvidenceFormat.Statement)
        {
            try
            {
                var payload = entry.Format == EvidenceFormat.Statement ? raw : SigstoreBundle.Parse(raw, $"bundle {artifact.Digest}").Envelope.Payload;
                statement = InTotoStatement.Parse(payload, $"statement in {artifact.Digest}");
            }
            catch (PromotionException ex) { return new VerifiedEvidence(entry, false, ex.Message, null) { Raw = raw }; }
            if (!statement.IsAbout(digest))
                return new VerifiedEvidence(entry, false, $"the statement in {artifact.Digest} is about {statement.Subject[0].Digest}, not {digest}", null)
                { Raw = raw, Statement = statement, Failure = EvidenceTrust.OtherSubject };
            content = statement.PredicateBytes();
            legacyType = statement.Kind?.LegacyArtifactType;
        }
        var inner = EvidenceContent.Check(legacyType, content, digest);
        return inner is null
            ? new VerifiedEvidence(entry, true, $"refers to {digest}; content {layers[0].Digest} verified", content) { Raw = raw, Statement = statement }
            : new VerifiedEvidence(entry, false, inner, content) { Raw = raw, Statement = statement, Failure = EvidenceTrust.OtherSubject };
    }

    /// <summary>
    /// Judges one piece: its structure (<see cref="VerifyAsync"/>), then, for a bundle, its signature against the keys
    /// <paramref name="trusted"/> names for <paramref name="expectedKind"/> (default: the kind the index claims).
    /// Statements and earlier versions' artifacts are unsigned. The verdict's reason names kind, digest and key id.
    /// </summary>
    public async Task<JudgedEvidence> JudgeAsync(ImageReference image, EvidenceEntry entry, TrustedKeys trusted, EvidenceKind? expectedKind, CancellationToken ct)
    {
        var digest = RequireDigest(image);
        var kind = expectedKind ?? entry.Kind;
        var checkedPiece = await VerifyAsync(image, entry, ct).ConfigureAwait(false);
        if (kind is null)
            return new JudgedEvidence(entry, new EvidenceVerdict(EvidenceTrust.WrongKind, null, digest, null,
                $"{entry.Description} ({entry.Manifest.Digest}) is not evidence of this pipeline", null), null);
        if (!checkedPiece.Verified)
        {
            // A broken signature is the more telling verdict when the altered payload also names another digest.
            if (entry.Format == EvidenceFormat.SigstoreBundle && checkedPiece.Raw is { } raw
                && BundleVerifier.Verify(raw, digest, kind, trusted.For(kind)) is { Trust: EvidenceTrust.BadSignature } bad)
                return new JudgedEvidence(entry, bad, null);
            return new JudgedEvidence(entry, new EvidenceVerdict(checkedPiece.Failure, kind, digest, null, $"{kind} {entry.Manifest.Digest}: {checkedPiece.Detail}", checkedPiece.Statement), null);
        }
        var verdict = entry.Format switch
        {
            EvidenceFormat.SigstoreBundle => BundleVerifier.Verify(checkedPiece.Raw, digest, kind, trusted.For(kind)),
            EvidenceFormat.Statement => BundleVerifier.Unsigned(kind, digest, checkedPiece.Statement, legacy: false),
            _ => BundleVerifier.Unsigned(kind, digest, null, legacy: true),
        };
        return new JudgedEvidence(entry, verdict, checkedPiece.Content);
    }

    /// <summary>
    /// Every piece on the digest that claims to be of <paramref name="kind"/>, judged against <paramref name="trusted"/>,
    /// oldest first. A gate counts the trusted ones and names the others with <see cref="EvidenceVerdict.Reason"/>.
    /// </summary>
    public async Task<IReadOnlyList<JudgedEvidence>> ReadAsync(ImageReference image, EvidenceKind kind, TrustedKeys trusted, CancellationToken ct)
    {
        var result = new List<JudgedEvidence>();
        foreach (var entry in await ListAsync(image, kind, ct).ConfigureAwait(false))
            result.Add(await JudgeAsync(image, entry, trusted, kind, ct).ConfigureAwait(false));
        return result;
    }

    /// <summary>
    /// Lists and checks every piece of one kind (named by its earlier artifact type) and returns those whose structure
    /// verifies, signed or not, with the predicate as content. Kept for the gates as they read evidence before trust is
    /// configured; a gate that counts trusted evidence only reads <see cref="ReadAsync"/> instead.
    /// </summary>
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
    /// (same digest): blobs, then the artifact manifests, then one fallback index update for all of them where the
    /// destination needs one. Evidence travels with the digest, signatures and all (the bytes are not touched).
    /// Returns how many pieces were copied (already present ones are not).
    /// </summary>
    public async Task<int> CopyAsync(ImageReference source, ImageReference destination, CancellationToken ct)
    {
        var digest = RequireDigest(source);
        if (source.Registry == destination.Registry && source.Repository == destination.Repository) return 0;
        var from = new ReferrersClient(transport, source.Registry);
        var to = new ReferrersClient(transport, destination.Registry);
        var entries = await ListAsync(source, (EvidenceKind?)null, ct).ConfigureAwait(false);
        var present = (await ListAsync(destination.WithDigest(digest), (EvidenceKind?)null, ct).ConfigureAwait(false)).Select(e => e.Manifest.Digest).ToHashSet();
        var artifacts = new List<Manifest>();
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
                log.Warning($"referrer {entry.Manifest.Digest} ({entry.Description}) of {digest} was not copied: its blob {big.Digest} is {big.Size} bytes, over the {MaxContentBytes}-byte evidence limit");
                continue;
            }
            foreach (var blob in artifact.Blobs)
            {
                var content = await from.ReadBlobAsync(source.Repository, blob, MaxContentBytes, ct).ConfigureAwait(false);
                await to.EnsureBlobAsync(destination.Repository, blob, content, ct).ConfigureAwait(false);
            }
            artifacts.Add(artifact);
        }
        if (artifacts.Count == 0) return 0;
        await PutReferrersAsync(to, destination.Repository, digest, artifacts, ct).ConfigureAwait(false);
        log.Information($"evidence: {artifacts.Count} piece(s) copied with {digest} to {destination.Name}");
        return artifacts.Count;
    }

    /// <summary>Writes artifact manifests by digest; those the registry does not index itself go into the fallback index in one update.</summary>
    private static async Task PutReferrersAsync(ReferrersClient referrers, string repository, Digest subject, IReadOnlyList<Manifest> artifacts, CancellationToken ct)
    {
        var unindexed = new List<Manifest>();
        foreach (var artifact in artifacts)
            if (!await referrers.PutManifestAsync(repository, artifact, ct).ConfigureAwait(false)) unindexed.Add(artifact);
        // OCI-Subject means the registry maintains the referrers list; without it the client keeps the tag schema index.
        if (unindexed.Count > 0 && await referrers.GetReferrersAsync(repository, subject, null, ct).ConfigureAwait(false) is null)
            await referrers.AddToFallbackAsync(repository, subject, unindexed.Select(EvidenceArtifact.ReferrerDescriptor).ToArray(), ct).ConfigureAwait(false);
    }

    private static DateTimeOffset? Created(Descriptor d) =>
        d.Annotations?.GetValueOrDefault(EvidenceArtifact.CreatedAnnotation) is { } text && DateTimeOffset.TryParse(text,
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static Digest RequireDigest(ImageReference image) =>
        image.Digest ?? throw new PromotionException($"'{image}' has no digest: evidence belongs to a digest; pass REF@sha256:…");
}
