using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImagePromotion.Copy;

/// <summary>What a copy did, as written by <c>Copy --result-file</c>.</summary>
public sealed record CopyResult
{
    public required string Source { get; init; }
    public required string Destination { get; init; }
    public required string SourceDigest { get; init; }
    public string? DestinationDigest { get; init; }
    public string? PreviousDigest { get; init; }
    public required string MediaType { get; init; }
    public bool DryRun { get; init; }
    /// <summary>True when the destination already pointed at the digest and nothing was written.</summary>
    public bool UpToDate { get; init; }
    public int BlobsCopied { get; init; }
    public int BlobsMounted { get; init; }
    public int BlobsSkipped { get; init; }
    /// <summary>Mounts the destination declined or refused (401, 403, 404, DENIED, 202): those blobs were uploaded instead.</summary>
    public int MountFallbacks { get; init; }
    /// <summary>Non-distributable (foreign) layers left out: their digest is in the manifest, their bytes at their <c>urls</c>.</summary>
    public int ForeignLayersSkipped { get; init; }
    /// <summary>Blobs uploaded in PATCH chunks because the destination needs it or refused a monolithic PUT.</summary>
    public int ChunkedUploads { get; init; }
    public int ManifestsPushed { get; init; }
    public long BytesUploaded { get; init; }
    /// <summary>HTTP requests sent per host:port, retries and token requests included.</summary>
    public IReadOnlyDictionary<string, int> Requests { get; init; } = new Dictionary<string, int>();
    public double Seconds { get; init; }

    // Source-generated metadata: the console host is published ahead-of-time (trimmed, no reflection),
    // and it also spares every host the reflection warm-up on first use.
    private static readonly CopyResultJson Json = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public string ToJson() => JsonSerializer.Serialize(this, Json.CopyResult);

    public static CopyResult FromJson(string json) =>
        JsonSerializer.Deserialize(json, Json.CopyResult) ?? throw new PromotionException("copy result file is empty");
}

[JsonSerializable(typeof(CopyResult))]
internal sealed partial class CopyResultJson : JsonSerializerContext;
