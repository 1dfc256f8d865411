using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImagePromotion.Evidence.Signing;

/// <summary>
/// A Sigstore bundle v0.3 (sigstore/protobuf-specs, protos/sigstore_bundle.proto, in its JSON mapping) holding a DSSE
/// envelope signed with a key: <c>verificationMaterial.publicKey.hint</c> names the key, there are no transparency-log
/// entries and no timestamps (a verifier is given the public key and thresholds of 0, as <c>cosign verify-attestation
/// --key … --insecure-ignore-tlog</c> or <c>@sigstore/verify</c> with a key finder).
/// </summary>
public sealed record SigstoreBundle(string KeyHint, DsseEnvelope Envelope)
{
    /// <summary>The media type of a Sigstore bundle v0.3, also the artifact type of signed evidence.</summary>
    public const string MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";

    /// <summary>The bundle in its protobuf JSON mapping: <c>mediaType</c>, <c>verificationMaterial.publicKey.hint</c> and <c>dsseEnvelope</c>.</summary>
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(new JsonObject
    {
        ["mediaType"] = MediaType,
        ["verificationMaterial"] = new JsonObject
        {
            ["publicKey"] = new JsonObject { ["hint"] = KeyHint },
            ["tlogEntries"] = new JsonArray(),
        },
        ["dsseEnvelope"] = Envelope.ToJson(),
    });

    /// <summary>Reads a bundle holding a DSSE envelope; one line naming <paramref name="source"/> and the fault otherwise.</summary>
    public static SigstoreBundle Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json.ToArray()); }
        catch (JsonException ex) { throw new PromotionException($"{source}: not JSON ({ex.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new PromotionException($"{source}: not a Sigstore bundle (not a JSON object)");
            var mediaType = root.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            // v0.1 and v0.2 bundles use "application/vnd.dev.sigstore.bundle+json;version=0.x"; keys and DSSE read the same.
            if (mediaType is null || !(mediaType == MediaType || mediaType.StartsWith("application/vnd.dev.sigstore.bundle", StringComparison.Ordinal)))
                throw new PromotionException($"{source}: mediaType '{mediaType}' is not a Sigstore bundle");
            if (!root.TryGetProperty("dsseEnvelope", out var envelope))
                throw new PromotionException($"{source}: the bundle holds no DSSE envelope (a message signature is not an attestation)");
            var hint = root.TryGetProperty("verificationMaterial", out var vm) && vm.ValueKind == JsonValueKind.Object
                && vm.TryGetProperty("publicKey", out var pk) && pk.ValueKind == JsonValueKind.Object
                && pk.TryGetProperty("hint", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString()! : "";
            return new SigstoreBundle(hint, DsseEnvelope.FromJson(envelope, source));
        }
    }
}
