using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Registry;

namespace ImagePromotion.Evidence;

/// <summary>The artifact types this pipeline attaches to an image digest.</summary>
public static class EvidenceTypes
{
    public const string ScanResult = Scanning.ScanResult.ArtifactMediaType;
    public const string PromotionRecord = "application/vnd.imagepromotion.promotion-record.v1+json";
    public const string ApprovalDecision = "application/vnd.imagepromotion.approval.v1+json";

    public static string Describe(string? artifactType) => artifactType switch
    {
        ScanResult => "scan result",
        PromotionRecord => "promotion record",
        ApprovalDecision => "approval decision",
        null => "(no artifact type)",
        _ => artifactType,
    };
}

/// <summary>One piece of evidence to attach: JSON bytes and the artifact type that says what they are.</summary>
public sealed record EvidencePiece(string ArtifactType, byte[] Content)
{
    /// <summary>Extra manifest annotations (e.g. the environment a record is about).</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Builds the OCI image manifest v1.1 artifact for a piece of evidence: <c>artifactType</c>, the empty config,
/// one layer holding the JSON, and <c>subject</c> naming the image. The bytes are built once and pushed as-is.
/// </summary>
public static class EvidenceArtifact
{
    public const string CreatedAnnotation = "org.opencontainers.image.created";
    /// <summary>The empty JSON object <c>{}</c> the spec prescribes as config for artifacts with no config.</summary>
    public static readonly byte[] EmptyConfig = "{}"u8.ToArray();
    public static readonly Descriptor EmptyDescriptor = new(MediaTypes.OciEmpty, Digest.Sha256(EmptyConfig), 2);

    public static Manifest Build(Descriptor subject, EvidencePiece piece, DateTimeOffset created)
    {
        var annotations = new JsonObject { [CreatedAnnotation] = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ") };
        foreach (var (k, v) in piece.Annotations.OrderBy(a => a.Key, StringComparer.Ordinal)) annotations[k] = v;
        var layer = new Descriptor(piece.ArtifactType, Digest.Sha256(piece.Content), piece.Content.Length);
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

    /// <summary>The spec's fallback tag for a subject digest: <c>&lt;alg&gt;-&lt;hex&gt;</c>, at most 128 characters.</summary>
    public static string FallbackTag(Digest subject)
    {
        var tag = subject.Algorithm + "-" + subject.Encoded;
        return tag.Length > 128 ? tag[..128] : tag;
    }
}
