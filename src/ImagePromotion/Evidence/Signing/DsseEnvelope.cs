using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImagePromotion.Evidence.Signing;

/// <summary>One DSSE signature: the key id it claims (a hint, never trusted by itself) and the signature bytes.</summary>
public sealed record DsseSignature(string KeyId, byte[] Sig);

/// <summary>
/// A DSSE envelope (secure-systems-lab/dsse, envelope.md and protocol.md): the payload, its type, and signatures over
/// the pre-authentication encoding of both, so a signature for one payload type can never be read as another.
/// </summary>
public sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<DsseSignature> Signatures)
{
    /// <summary>
    /// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN being the byte length in ASCII decimal
    /// without leading zeros (protocol.md). What is signed and verified; never the payload alone.
    /// </summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var head = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length} ");
        var pae = new byte[head.Length + type.Length + middle.Length + payload.Length];
        head.CopyTo(pae, 0);
        type.CopyTo(pae, head.Length);
        middle.CopyTo(pae, head.Length + type.Length);
        payload.CopyTo(pae.AsSpan(head.Length + type.Length + middle.Length));
        return pae;
    }

    /// <summary>The DSSE v1 pre-authentication encoding of this envelope's payload type and payload: the bytes that are signed.</summary>
    public byte[] PreAuthenticationEncoding() => PreAuthenticationEncoding(PayloadType, Payload);

    /// <summary>The envelope as the bundle's <c>dsseEnvelope</c> member: payload and signatures in standard base64.</summary>
    public JsonObject ToJson()
    {
        var signatures = new JsonArray();
        foreach (var s in Signatures) signatures.Add(new JsonObject { ["sig"] = Convert.ToBase64String(s.Sig), ["keyid"] = s.KeyId });
        return new JsonObject
        {
            ["payload"] = Convert.ToBase64String(Payload),
            ["payloadType"] = PayloadType,
            ["signatures"] = signatures,
        };
    }

    /// <summary>Reads an envelope; one line naming what is missing otherwise.</summary>
    public static DsseEnvelope FromJson(JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new PromotionException($"{source}: the DSSE envelope is not an object");
        var payloadType = e.TryGetProperty("payloadType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : null;
        var payload = e.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.String ? Base64(p.GetString()!, source, "payload") : null;
        if (payloadType is null || payload is null) throw new PromotionException($"{source}: the DSSE envelope lacks payloadType or payload");
        var signatures = new List<DsseSignature>();
        if (e.TryGetProperty("signatures", out var sigs) && sigs.ValueKind == JsonValueKind.Array)
            foreach (var s in sigs.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.Object || !s.TryGetProperty("sig", out var sig) || sig.ValueKind != JsonValueKind.String) continue;
                var keyId = s.TryGetProperty("keyid", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : "";
                signatures.Add(new DsseSignature(keyId, Base64(sig.GetString()!, source, "signature")));
            }
        return new DsseEnvelope(payloadType, payload, signatures);
    }

    private static byte[] Base64(string text, string source, string what)
    {
        try { return Convert.FromBase64String(text); }
        catch (FormatException) { throw new PromotionException($"{source}: the DSSE {what} is not base64"); }
    }
}
