using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Registry;

namespace ImagePromotion.Evidence.Signing;

/// <summary>
/// Verifies a Sigstore bundle as evidence for one digest and one kind against the keys trusted for that kind. The order
/// matters: the signature is checked before anything the statement says is believed (its kind and subject are only
/// read for the reason line until then), and a trusted signature still does not make a statement about another digest,
/// or of another kind, count.
/// </summary>
public static class BundleVerifier
{
    /// <param name="bundleJson">The bundle's bytes as stored.</param>
    /// <param name="expectedSubject">The image digest the evidence must be about.</param>
    /// <param name="expectedKind">The kind the caller asks for (a gate reads one kind).</param>
    /// <param name="trustedKeys">The keys trusted for <paramref name="expectedKind"/>; empty: nothing can be trusted.</param>
    public static EvidenceVerdict Verify(ReadOnlySpan<byte> bundleJson, Digest expectedSubject, EvidenceKind expectedKind,
        IReadOnlyCollection<VerificationKey> trustedKeys)
    {
        SigstoreBundle bundle;
        try { bundle = SigstoreBundle.Parse(bundleJson, $"{expectedKind} bundle on {expectedSubject}"); }
        catch (PromotionException ex) { return new(EvidenceTrust.Malformed, null, expectedSubject, null, ex.Message, null); }
        var envelope = bundle.Envelope;

        // What the piece claims, for the reason line only until the signature has verified.
        InTotoStatement? claimed = null;
        if (envelope.PayloadType == InTotoStatement.PayloadType)
        {
            try { claimed = InTotoStatement.Parse(envelope.Payload, "statement"); }
            catch (PromotionException) { /* reported below if the signature verifies */ }
        }
        var claimedKind = claimed?.Kind;
        var about = claimed is null ? "" : claimed.IsAbout(expectedSubject) ? $" about {expectedSubject}" : $" about {claimed.Subject[0].Digest}";
        var what = (claimedKind ?? expectedKind).Name + about;
        // The hint is the piece's own claim: untrusted text that lands in gate tables and logs, so control characters are escaped.
        string? claimedKeyId = Logging.LogText.Inline(bundle.KeyHint.Length > 0 ? bundle.KeyHint : envelope.Signatures.FirstOrDefault()?.KeyId is { Length: > 0 } k ? k : null);
        if (claimedKeyId.Length == 0) claimedKeyId = null;

        if (envelope.Signatures.Count == 0)
            return new(EvidenceTrust.Unsigned, claimedKind, expectedSubject, null, $"{what} is unsigned: {expectedKind.Renew}", claimed);

        var pae = envelope.PreAuthenticationEncoding();
        // A signature names its key by id; a bundle without a usable hint is tried against every trusted key.
        var named = trustedKeys.Where(t => t.KeyId == bundle.KeyHint || envelope.Signatures.Any(s => s.KeyId == t.KeyId)).ToArray();
        var candidates = named.Length > 0 ? named : trustedKeys.ToArray();
        VerificationKey? signer = candidates.FirstOrDefault(key => envelope.Signatures.Any(s => key.Verify(pae, s.Sig)));
        if (signer is null && named.Length > 0)
            return new(EvidenceTrust.BadSignature, claimedKind, expectedSubject, named[0].KeyId,
                $"{what} claims key {named[0].KeyId}, trusted for {expectedKind.Plural}, but its signature does not verify: it was altered after signing", claimed);
        if (signer is null)
            return new(EvidenceTrust.UntrustedKey, claimedKind, expectedSubject, claimedKeyId,
                $"{what} signed by key {claimedKeyId ?? "(unnamed)"}, which is not trusted for {expectedKind.Plural}"
                + (trustedKeys.Count == 0 ? " (no key is trusted for them)" : ""), claimed);

        if (envelope.PayloadType != InTotoStatement.PayloadType)
            return new(EvidenceTrust.WrongKind, null, expectedSubject, signer.KeyId,
                $"{expectedKind.Name} signed by key {signer.KeyId} carries a {envelope.PayloadType} payload, not an in-toto statement", null);
        if (claimed is null)
        {
            var fault = "";
            try { InTotoStatement.Parse(envelope.Payload, "the signed statement"); }
            catch (PromotionException ex) { fault = ex.Message; }
            return new(EvidenceTrust.Malformed, null, expectedSubject, signer.KeyId, $"{expectedKind.Name} signed by key {signer.KeyId}: {fault}", null);
        }
        if (claimed.PredicateType != expectedKind.PredicateType)
            return new(EvidenceTrust.WrongKind, claimedKind, expectedSubject, signer.KeyId,
                $"{claimedKind?.Name ?? claimed.PredicateType}{about} signed by key {signer.KeyId} is not a {expectedKind.Name}", claimed);
        if (!claimed.IsAbout(expectedSubject))
            return new(EvidenceTrust.OtherSubject, claimedKind, expectedSubject, signer.KeyId,
                $"{expectedKind.Name} signed by key {signer.KeyId} is about {claimed.Subject[0].Digest}, not {expectedSubject}: a piece replayed from another image", claimed);
        return new(EvidenceTrust.Trusted, claimedKind, expectedSubject, signer.KeyId,
            $"{expectedKind.Name} about {expectedSubject} signed by key {signer.KeyId}, trusted for {expectedKind.Plural}", claimed);
    }

    /// <summary>The verdict on a bare statement or an earlier version's artifact: never trusted, with the one line saying how to renew it.</summary>
    public static EvidenceVerdict Unsigned(EvidenceKind kind, Digest subject, InTotoStatement? statement, bool legacy) =>
        new(EvidenceTrust.Unsigned, kind, subject, null,
            $"{(legacy ? "unsigned " + kind.Name + " written by an earlier version" : kind.Name + " is unsigned")} about {subject}: not counted; {kind.Renew}", statement);
}
