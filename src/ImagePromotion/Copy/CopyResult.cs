using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImagePromotion.Copy;

/// <summary>What a copy did, as written by <c>Copy --result-file</c>.</summary>
public sealed record CopyResult
{
    /// <summary>The source as given, a registry reference or <c>oci:DIR:TAG</c>.</summary>
    public required string Source { get; init; }
    /// <summary>The destination reference as given (<c>host/repository:tag</c>).</summary>
    public required string Destination { get; init; }
    /// <summary>Digest of the top manifest copied (<c>sha256:…</c>), the same at source and destination.</summary>
    public required string SourceDigest { get; init; }
    /// <summary>Digest the destination tag points at after the copy, as the registry reported it; null for a dry run that would write.</summary>
    public string? DestinationDigest { get; init; }
    /// <summary>Digest the destination tag pointed at before the copy; null when the tag was new.</summary>
    public string? PreviousDigest { get; init; }
    /// <summary>Media type of the top manifest (an image manifest or an index).</summary>
    public required string MediaType { get; init; }
    /// <summary>True when nothing was written, only planned.</summary>
    public bool DryRun { get; init; }
    /// <summary>True when the destination already pointed at the digest and nothing was written.</summary>
    public bool UpToDate { get; init; }
    /// <summary>Blobs streamed from the source into the destination.</summary>
    public int BlobsCopied { get; init; }
    /// <summary>Blobs mounted from another repository of the same registry (no bytes moved).</summary>
    public int BlobsMounted { get; init; }
    /// <summary>Blobs the destination already held.</summary>
    public int BlobsSkipped { get; init; }
    /// <summary>Mounts the destination declined or refused (401, 403, 404, DENIED, 202): those blobs were uploaded instead.</summary>
    public int MountFallbacks { get; init; }
    /// <summary>Non-distributable (foreign) layers left out: their digest is in the manifest, their bytes at their <c>urls</c>.</summary>
    public int ForeignLayersSkipped { get; init; }
    /// <summary>Blobs uploaded in PATCH chunks because the destination needs it or refused a monolithic PUT.</summary>
    public int ChunkedUploads { get; init; }
    /// <summary>Manifests pushed: index children by digest plus the top manifest.</summary>
    public int ManifestsPushed { get; init; }
    /// <summary>Bytes of blob content uploaded to the destination.</summary>
    public long BytesUploaded { get; init; }
    /// <summary>HTTP requests sent per host:port, retries and token requests included.</summary>
    public IReadOnlyDictionary<string, int> Requests { get; init; } = new Dictionary<string, int>();
    /// <summary>Wall-clock duration of the copy in seconds.</summary>
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

    /// <summary>The result as indented camelCase JSON (the <c>--result-file</c> format).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json.CopyResult);

    /// <summary>Reads a result written by <see cref="ToJson"/>.</summary>
    /// <exception cref="PromotionException">The JSON is <c>null</c>.</exception>
    public static CopyResult FromJson(string json) =>
        JsonSerializer.Deserialize(json, Json.CopyResult) ?? throw new PromotionException("copy result file is empty");
}

[JsonSerializable(typeof(CopyResult))]
internal sealed partial class CopyResultJson : JsonSerializerContext;
