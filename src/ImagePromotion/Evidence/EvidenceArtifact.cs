using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Registry;

namespace ImagePromotion.Evidence;

/// <summary>
/// The artifact types of evidence. Signed evidence is a Sigstore bundle (<see cref="Bundle"/>), an unsigned statement a
/// bare in-toto statement (<see cref="Statement"/>); the three kinds earlier versions wrote unsigned keep their own types,
/// which callers still use to name a kind (<see cref="EvidenceKind.FromLegacyArtifactType"/>).
/// </summary>
public static class EvidenceTypes
{
    /// <summary>Earlier versions' artifact type of an unsigned scan result.</summary>
    public const string ScanResult = Scanning.ScanResult.ArtifactMediaType;
    /// <summary>Earlier versions' artifact type of an unsigned promotion record.</summary>
    public const string PromotionRecord = "application/vnd.imagepromotion.promotion-record.v1+json";
    /// <summary>Earlier versions' artifact type of an unsigned approval decision.</summary>
    public const string ApprovalDecision = "application/vnd.imagepromotion.approval.v1+json";
    /// <summary>A Sigstore bundle v0.3: a signed in-toto statement.</summary>
    public const string Bundle = SigstoreBundle.MediaType;
    /// <summary>A bare (unsigned) in-toto statement.</summary>
    public const string Statement = InTotoStatement.PayloadType;

    /// <summary>A human name for an artifact type in listings (<c>scan result</c>, <c>Sigstore bundle</c>); an unknown type is returned as-is.</summary>
    public static string Describe(string? artifactType) => artifactType switch
    {
        ScanResult => "scan result",
        PromotionRecord => "promotion record",
        ApprovalDecision => "approval decision",
        Bundle => "Sigstore bundle",
        Statement => "in-toto statement",
        null => "(no artifact type)",
        _ => artifactType,
    };
}

/// <summary>
/// One piece of evidence to attach: the kind named by its earlier artifact type (<see cref="EvidenceTypes"/>) and the
/// predicate JSON. The store turns it into a statement about the image and signs it with the role's key.
/// </summary>
public sealed record EvidencePiece(string ArtifactType, byte[] Content)
{
    /// <summary>Extra manifest annotations (e.g. the environment a record is about).</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    /// <summary>The role whose key signs it; default the kind's (<see cref="EvidenceKind.Role"/>).</summary>
    public KeyRole? Role { get; init; }
}

/// <summary>The annotations that say what a referrer holds, readable from the referrers index without fetching it.</summary>
public static class EvidenceAnnotations
{
    /// <summary>cosign's annotations for a bundle referrer (pkg/oci/remote/write.go, WriteAttestationNewBundleFormat).</summary>
    public const string BundleContent = "dev.sigstore.bundle.content";
    /// <summary>cosign's annotation naming the predicate type of a bundle referrer.</summary>
    public const string BundlePredicateType = "dev.sigstore.bundle.predicateType";
    /// <summary>BuildKit's annotation for an in-toto statement layer.</summary>
    public const string StatementPredicateType = "in-toto.io/predicate-type";
    /// <summary>sha256 of the statement bytes and the signer's key id ("unsigned" when none): a re-run that would sign the same statement writes nothing.</summary>
    public const string StatementDigest = "org.imagepromotion.statement.digest";
    /// <summary>The key id that signed the piece, or <c>unsigned</c>.</summary>
    public const string Signer = "org.imagepromotion.signer";
}

/// <summary>
/// Builds the OCI image manifest v1.1 artifact for a piece of evidence: <c>artifactType</c>, the empty config,
/// one layer holding the JSON, and <c>subject</c> naming the image. The bytes are built once and pushed as-is.
/// </summary>
public static class EvidenceArtifact
{
    /// <summary>The OCI annotation holding the artifact's creation time (RFC 3339, UTC, whole seconds).</summary>
    public const string CreatedAnnotation = "org.opencontainers.image.created";
    /// <summary>The empty JSON object <c>{}</c> the spec prescribes as config for artifacts with no config.</summary>
    public static readonly byte[] EmptyConfig = "{}"u8.ToArray();
    /// <summary>Descriptor of <see cref="EmptyConfig"/>: media type <c>application/vnd.oci.empty.v1+json</c>, 2 bytes.</summary>
    public static readonly Descriptor EmptyDescriptor = new(MediaTypes.OciEmpty, Digest.Sha256(EmptyConfig), 2);

    /// <summary>The artifact manifest for <paramref name="piece"/>: its content as the one layer, the empty config, <c>subject</c> = <paramref name="subject"/>, annotations sorted by key so the same input gives the same bytes.</summary>
    /// <param name="subject">Descriptor of the image manifest the evidence is about.</param>
    /// <param name="piece">Artifact type, content and extra annotations.</param>
    /// <param name="created">Written to <see cref="CreatedAnnotation"/>, truncated to whole seconds in UTC.</param>
    public static Manifest Build(Descriptor subject, EvidencePiece piece, DateTimeOffset created)
    {
        var annotations = new JsonObject { [CreatedAnnotation] = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ") };
        foreach (var (k, v) in piece.Annotations.OrderBy(a => a.Key, StringComparer.Ordinal)) annotations[k] = v;
        var layer = new Descriptor(piece.ArtifactType, Digest.Sha256(piece.Content), piece.Content.Length);
        // Bundles and statements are layers of their own media type (cosign, BuildKit); the artifact type names the same.
        var json = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["artifactType"] = piece.ArtifactType,
            ["config"] = Json(EmptyDescriptor),
            ["layers"] = new JsonArray(Json(layer)),
            ["subject"] = Json(new Descriptor(subject.MediaType, subject.Digest, subject.Size)),
            ["annotations"] = annotations,
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(json);
        return Manifest.Parse(bytes, MediaTypes.OciManifest, $"evidence for {subject.Digest}");
    }

    /// <summary>A descriptor as JSON, with the artifact type and annotations an index entry carries.</summary>
    public static JsonObject Json(Descriptor d)
    {
        var o = new JsonObject { ["mediaType"] = d.MediaType, ["digest"] = d.Digest.ToString(), ["size"] = d.Size };
        if (d.ArtifactType is not null) o["artifactType"] = d.ArtifactType;
        if (d.Annotations is { Count: > 0 } a)
        {
            var ann = new JsonObject();
            foreach (var (k, v) in a.OrderBy(x => x.Key, StringComparer.Ordinal)) ann[k] = v;
            o["annotations"] = ann;
        }
        return o;
    }

    /// <summary>The referrers-index entry for an artifact manifest: its descriptor plus artifact type and annotations.</summary>
    public static Descriptor ReferrerDescriptor(Manifest artifact)
    {
        Dictionary<string, string>? annotations = null;
        using (var doc = JsonDocument.Parse(artifact.Bytes))
        {
            if (doc.RootElement.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
            {
                annotations = new();
                foreach (var kv in a.EnumerateObject())
                    if (kv.Value.ValueKind == JsonValueKind.String) annotations[kv.Name] = kv.Value.GetString()!;
            }
        }
        var type = artifact.ArtifactType ?? artifact.Config?.MediaType;
        return new Descriptor(artifact.MediaType, artifact.Digest, artifact.Bytes.Length) { ArtifactType = type, Annotations = annotations };
    }

    /// <summary>
    /// The spec's fallback tag for a subject digest (distribution-spec v1.1, "Referrers Tag Schema"):
    /// <c>&lt;alg&gt;-&lt;ref&gt;</c>, the algorithm truncated to 32 and the encoded digest to 64 characters.
    /// </summary>
    public static string FallbackTag(Digest subject)
    {
        var alg = subject.Algorithm.Length > 32 ? subject.Algorithm[..32] : subject.Algorithm;
        var encoded = subject.Encoded.Length > 64 ? subject.Encoded[..64] : subject.Encoded;
        return alg + "-" + encoded;
    }

    /// <summary>
    /// The N-th overflow tag (N from 1) after <see cref="FallbackTag"/>, used only where the registry refuses to rewrite
    /// the fallback tag (immutable tags): <c>sha256-&lt;hex&gt;.referrers.N</c>, the cosign-style suffix after a dot, well
    /// inside the 128-character tag limit.
    /// </summary>
    public static string OverflowTag(Digest subject, int slot) => $"{FallbackTag(subject)}.referrers.{slot}";
}
