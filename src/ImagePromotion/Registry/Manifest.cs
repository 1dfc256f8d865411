using System.Text.Json;

namespace ImagePromotion.Registry;

/// <summary>
/// A manifest exactly as the registry served it. The engine reads descriptors out of <see cref="Bytes"/>
/// but never writes a re-serialised form: the bytes are what is pushed, so the digest cannot change.
/// </summary>
public sealed class Manifest
{
    /// <summary>The distribution registry refuses manifests over 4 MiB; so do we, before reading one into memory.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>The manifest bytes exactly as served: what is pushed and what <see cref="Digest"/> is computed over.</summary>
    public byte[] Bytes { get; }
    /// <summary>The manifest's media type (body <c>mediaType</c>, else the Content-Type the registry sent).</summary>
    public string MediaType { get; }
    /// <summary>The digest of <see cref="Bytes"/>.</summary>
    public Digest Digest { get; }
    /// <summary>Index children (other manifests), in document order.</summary>
    public IReadOnlyList<Descriptor> Manifests { get; }
    /// <summary>Config then layers, for an image manifest; empty for an index.</summary>
    public IReadOnlyList<Descriptor> Blobs { get; }
    /// <summary>The config descriptor of an image manifest; null for an index.</summary>
    public Descriptor? Config { get; }
    /// <summary>The <c>subject</c> (OCI 1.1): the manifest this one is about, for referrers; null when none.</summary>
    public Descriptor? Subject { get; }
    /// <summary>The <c>artifactType</c> (OCI 1.1), when set.</summary>
    public string? ArtifactType { get; }

    private Manifest(byte[] bytes, string mediaType, Digest digest, IReadOnlyList<Descriptor> manifests,
        IReadOnlyList<Descriptor> blobs, Descriptor? config, Descriptor? subject, string? artifactType)
    {
        Bytes = bytes; MediaType = mediaType; Digest = digest; Manifests = manifests; Blobs = blobs;
        Config = config; Subject = subject; ArtifactType = artifactType;
    }

    /// <summary>A descriptor of this manifest (media type, digest, size in bytes), as a parent index or a referrer lists it.</summary>
    public Descriptor ToDescriptor() => new(MediaType, Digest, Bytes.Length);

    /// <summary>
    /// Parses raw bytes. <paramref name="headerMediaType"/> is the Content-Type the registry sent;
    /// the document's own mediaType field wins when present (registries may send a generic type).
    /// <paramref name="expected"/>, when given, must match the bytes: a registry that serves other
    /// content than the digest we asked for is refused.
    /// </summary>
    public static Manifest Parse(byte[] bytes, string? headerMediaType, string where, Digest? expected = null)
    {
        if (bytes.Length > MaxBytes)
            throw new PromotionException($"manifest {where} is {bytes.Length} bytes, over the {MaxBytes}-byte limit: refusing to copy it");
        // Before any digest check: a signed schema 1 manifest never hashes to its own digest, and saying
        // "the registry served other content" would send the user after the wrong problem.
        if (MediaTypes.IsSchema1(NormaliseHeader(headerMediaType)) || IsSchema1(bytes))
            throw Schema1(where);
        var digest = expected is { } e ? e : Digest.Sha256(bytes);
        if (expected is { } exp && !exp.Matches(bytes))
            throw new PromotionException($"manifest {where} does not match its digest {exp}: the registry served other content; refusing to copy it");

        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException ex)
        {
            throw new PromotionException($"manifest {where} is not valid JSON ({ex.Message.Split('\n')[0]})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new PromotionException($"manifest {where} is not a JSON object");
            var mediaType = Str(root, "mediaType") ?? NormaliseHeader(headerMediaType);
            if (mediaType is null)
            {
                // An OCI manifest may omit mediaType; its shape tells which it is.
                mediaType = root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex
                    : root.TryGetProperty("layers", out _) ? MediaTypes.OciManifest : null;
            }
            if (mediaType is null || !MediaTypes.IsKnownManifest(mediaType))
                throw new PromotionException($"manifest {where} has unsupported media type '{mediaType ?? "(none)"}': supported are OCI and Docker v2 manifests and indexes");

            var manifests = new List<Descriptor>();
            var blobs = new List<Descriptor>();
            Descriptor? config = null;
            if (MediaTypes.IsIndex(mediaType))
            {
                foreach (var m in Array(root, "manifests", where)) manifests.Add(ReadDescriptor(m, where));
            }
            else
            {
                if (!root.TryGetProperty("config", out var c))
                    throw new PromotionException($"manifest {where} has no config descriptor");
                config = ReadDescriptor(c, where);
                blobs.Add(config);
                foreach (var l in Array(root, "layers", where)) blobs.Add(ReadDescriptor(l, where));
            }
            Descriptor? subject = root.TryGetProperty("subject", out var s) && s.ValueKind == JsonValueKind.Object
                ? ReadDescriptor(s, where) : null;
            return new Manifest(bytes, mediaType, digest, manifests, blobs, config, subject, Str(root, "artifactType"));
        }
    }

    /// <summary>The error for a Docker schema 1 manifest, wherever it is met (a tag, a digest, an index entry).</summary>
    public static PromotionException Schema1(string where) =>
        new($"manifest {where} is Docker schema 1, which is not supported (its digest is not the hash of its bytes, so it cannot be copied digest for digest): re-push the image with a current client (docker, buildah, skopeo or crane write schema 2 or OCI)");

    /// <summary>True when the JSON's top-level <c>schemaVersion</c> is 1 (cheap: stops at the first level).</summary>
    public static bool IsSchema1(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject) return false;
                if (reader.TokenType != JsonTokenType.PropertyName) continue;
                var isVersion = reader.ValueTextEquals("schemaVersion");
                reader.Read();
                if (isVersion) return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) && v == 1;
                reader.Skip();
            }
        }
        catch (JsonException) { }
        return false;
    }

    private static string? NormaliseHeader(string? header)
    {
        if (string.IsNullOrEmpty(header)) return null;
        var semi = header.IndexOf(';');
        var t = (semi >= 0 ? header[..semi] : header).Trim();
        return t is "application/json" or "text/plain" or "application/octet-stream" ? null : t;
    }

    private static IEnumerable<JsonElement> Array(JsonElement root, string name, string where)
    {
        if (!root.TryGetProperty(name, out var a)) return System.Array.Empty<JsonElement>();
        if (a.ValueKind != JsonValueKind.Array)
            throw new PromotionException($"manifest {where}: '{name}' is not an array");
        return a.EnumerateArray().ToArray();
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Descriptor ReadDescriptor(JsonElement e, string where)
    {
        var mediaType = Str(e, "mediaType") ?? "";
        var digestText = Str(e, "digest");
        if (!Digest.TryParse(digestText, out var digest))
            throw new PromotionException($"manifest {where} has a descriptor with an invalid digest '{digestText}'");
        if (!e.TryGetProperty("size", out var sizeEl) || sizeEl.ValueKind != JsonValueKind.Number || !sizeEl.TryGetInt64(out var size) || size < 0)
            throw new PromotionException($"manifest {where} has a descriptor for {digest} without a valid size");
        string? platform = null;
        if (e.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            platform = $"{Str(p, "os")}/{Str(p, "architecture")}";
            if (Str(p, "variant") is { } v) platform += "/" + v;
        }
        Dictionary<string, string>? annotations = null;
        if (e.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            annotations = new();
            foreach (var kv in a.EnumerateObject())
                if (kv.Value.ValueKind == JsonValueKind.String) annotations[kv.Name] = kv.Value.GetString()!;
        }
        List<string>? urls = null;
        if (e.TryGetProperty("urls", out var u) && u.ValueKind == JsonValueKind.Array)
            urls = u.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList();
        return new Descriptor(mediaType, digest, size)
        {
            Urls = urls,
            Platform = platform,
            ArtifactType = Str(e, "artifactType"),
            Annotations = annotations,
        };
    }
}
