using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;

namespace ImagePromotion.Evidence;

/// <summary>
/// Which public keys are trusted for which kind of evidence. A key trusted for scan results does not make a promotion
/// record it signed count: every kind has its own list (the <c>trust:</c> configuration fills them per environment).
/// </summary>
public sealed class TrustedKeys
{
    private readonly IReadOnlyDictionary<EvidenceKind, IReadOnlyList<VerificationKey>> _byKind;

    /// <summary>Trust per kind, as the <c>trust:</c> configuration gives it; a kind missing from <paramref name="byKind"/> trusts no key.</summary>
    public TrustedKeys(IReadOnlyDictionary<EvidenceKind, IReadOnlyList<VerificationKey>> byKind) => _byKind = byKind;

    /// <summary>Nothing is trusted: every signed piece is "untrusted key".</summary>
    public static TrustedKeys None { get; } = new(new Dictionary<EvidenceKind, IReadOnlyList<VerificationKey>>());

    /// <summary>The same keys for every kind (the Evidence target's <c>--trusted-key</c>, until a trust configuration names them per kind).</summary>
    public static TrustedKeys ForEveryKind(IEnumerable<VerificationKey> keys)
    {
        var list = keys.ToArray();
        return new(EvidenceKind.All.ToDictionary(k => k, _ => (IReadOnlyList<VerificationKey>)list));
    }

    /// <summary>The keys trusted for <paramref name="kind"/>; empty when none.</summary>
    public IReadOnlyList<VerificationKey> For(EvidenceKind kind) => _byKind.GetValueOrDefault(kind) ?? [];

    /// <summary>
    /// These keys with the build provenance keys also accepted for promotion records, for listing: the push record is
    /// the build job's promotion record. (Gates check which record kind which key signed: <c>TrustedGateEvidence</c>.)
    /// </summary>
    public TrustedKeys WithPushRecords()
    {
        var copy = new Dictionary<EvidenceKind, IReadOnlyList<VerificationKey>>(_byKind)
        {
            [EvidenceKind.PromotionRecord] = For(EvidenceKind.PromotionRecord).Concat(For(EvidenceKind.BuildProvenance)).ToArray(),
        };
        return new TrustedKeys(copy);
    }

    /// <summary>True when no kind trusts any key: every signed piece is then untrusted.</summary>
    public bool IsEmpty => _byKind.Values.All(v => v.Count == 0);
}
