using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Registry;

namespace ImagePromotion.Evidence.Attestations;

/// <summary>One artifact a statement is about: a name and its digest (the in-toto ResourceDescriptor, sha256 only here).</summary>
public sealed record StatementSubject(string Name, Digest Digest);

/// <summary>
/// An in-toto Statement v1 (in-toto/attestation spec/v1/statement.md): <c>_type</c>, the subjects (here the image:
/// repository name and manifest digest), the predicate type and the predicate. Serialised with a fixed member order so
/// the same statement gives the same bytes; those bytes are what the DSSE envelope signs.
/// </summary>
public sealed record InTotoStatement(IReadOnlyList<StatementSubject> Subject, string PredicateType, JsonObject Predicate)
{
    /// <summary>The statement's <c>_type</c>, in-toto Statement v1.</summary>
    public const string Type = "https://in-toto.io/Statement/v1";
    /// <summary>The DSSE payload type of an in-toto statement, also the media type of a bare (unsigned) statement.</summary>
    public const string PayloadType = "application/vnd.in-toto+json";

    /// <summary>A statement about <paramref name="image"/> (which must carry its digest) with a JSON predicate.</summary>
    public static InTotoStatement About(ImageReference image, EvidenceKind kind, ReadOnlySpan<byte> predicateJson)
    {
        var digest = image.Digest ?? throw new PromotionException($"'{image}' has no digest: a statement is about a digest; pass REF@sha256:…");
        JsonNode? node;
        try { node = JsonNode.Parse(predicateJson); }
        catch (JsonException ex) { throw new PromotionException($"the {kind} is not JSON ({ex.Message}): it cannot be a statement's predicate"); }
        if (node is not JsonObject predicate) throw new PromotionException($"the {kind} is not a JSON object: it cannot be a statement's predicate");
        return new InTotoStatement([new StatementSubject(image.Name, digest)], kind.PredicateType, predicate);
    }

    /// <summary>True when one of the subjects has <paramref name="digest"/>.</summary>
    public bool IsAbout(Digest digest) => Subject.Any(s => s.Digest == digest);

    /// <summary>The kind the predicate type names; null when it is not one of ours.</summary>
    public EvidenceKind? Kind => EvidenceKind.FromPredicateType(PredicateType);

    /// <summary>The predicate alone, as compact JSON (what earlier versions stored as the artifact's content).</summary>
    public byte[] PredicateBytes() => JsonSerializer.SerializeToUtf8Bytes(Predicate);

    /// <summary>The statement as compact JSON with a fixed member order (<c>_type</c>, <c>subject</c>, <c>predicateType</c>, <c>predicate</c>): the DSSE payload.</summary>
    public byte[] ToJsonBytes()
    {
        var subjects = new JsonArray();
        foreach (var s in Subject)
            subjects.Add(new JsonObject { ["name"] = s.Name, ["digest"] = new JsonObject { [s.Digest.Algorithm] = s.Digest.Encoded } });
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["_type"] = Type,
            ["subject"] = subjects,
            ["predicateType"] = PredicateType,
            ["predicate"] = Predicate.DeepClone(),
        });
    }

    /// <summary>Reads a statement; one line naming <paramref name="source"/> and what is wrong otherwise.</summary>
    public static InTotoStatement Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json); }
        catch (JsonException ex) { throw new PromotionException($"{source}: the statement is not JSON ({ex.Message})"); }
        if (node is not JsonObject root) throw new PromotionException($"{source}: the statement is not a JSON object");
        var type = (root["_type"] as JsonValue)?.GetValueKind() == JsonValueKind.String ? root["_type"]!.GetValue<string>() : null;
        if (type != Type) throw new PromotionException($"{source}: _type is '{type}', not an in-toto Statement v1 ({Type})");
        var predicateType = (root["predicateType"] as JsonValue)?.GetValueKind() == JsonValueKind.String ? root["predicateType"]!.GetValue<string>() : null;
        if (string.IsNullOrEmpty(predicateType)) throw new PromotionException($"{source}: the statement has no predicateType");
        if (root["predicate"] is not JsonObject predicate) throw new PromotionException($"{source}: the statement has no predicate object");
        if (root["subject"] is not JsonArray subjects || subjects.Count == 0) throw new PromotionException($"{source}: the statement has no subject");
        var list = new List<StatementSubject>();
        foreach (var s in subjects)
        {
            if (s is not JsonObject o || o["digest"] is not JsonObject digests) throw new PromotionException($"{source}: a subject has no digest set");
            var name = (o["name"] as JsonValue)?.GetValueKind() == JsonValueKind.String ? o["name"]!.GetValue<string>() : "";
            // Only sha256 binds here: it is the algorithm of the manifest digests this pipeline promotes.
            if (digests["sha256"] is JsonValue v && v.GetValueKind() == JsonValueKind.String && Digest.TryParse("sha256:" + v.GetValue<string>(), out var d))
                list.Add(new StatementSubject(name, d));
        }
        if (list.Count == 0) throw new PromotionException($"{source}: no subject has a sha256 digest");
        return new InTotoStatement(list, predicateType, (JsonObject)predicate.DeepClone());
    }
}
