using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Registry;

namespace ImagePromotion.Evidence.Signing;

/// <summary>What verification concluded about one piece of evidence. Only <see cref="Trusted"/> may count for a gate.</summary>
public enum EvidenceTrust
{
    /// <summary>Signed by a key trusted for its kind, the signature verifies, the statement is of the expected kind and about the expected digest.</summary>
    Trusted,
    /// <summary>No signature: a bare in-toto statement, or an artifact written by an earlier (unsigned) version.</summary>
    Unsigned,
    /// <summary>Signed, but by no key trusted for this kind (or no key is trusted at all).</summary>
    UntrustedKey,
    /// <summary>Claims a trusted key, but the signature does not verify over the envelope.</summary>
    BadSignature,
    /// <summary>Signed by a trusted key, but the statement's subject is another digest (a replayed piece).</summary>
    OtherSubject,
    /// <summary>Signed by a trusted key, but the statement is another kind of evidence than the one asked for.</summary>
    WrongKind,
    /// <summary>Not a readable bundle or statement.</summary>
    Malformed,
}

/// <summary>
/// The verdict on one piece: its trust, the kind it is (as verified, or as it claims when not verified), the key id that
/// signed it (the verified key, else the claimed hint), and a reason line that names kind, digest and key id.
/// <see cref="Statement"/> is set when the piece could be read; its content counts only when <see cref="IsTrusted"/>.
/// </summary>
public sealed record EvidenceVerdict(EvidenceTrust Trust, EvidenceKind? Kind, Digest Subject, string? KeyId, string Reason, InTotoStatement? Statement)
{
    /// <summary>True when the signature verified with a key trusted for the kind and the statement is about the subject: only then does the content count.</summary>
    public bool IsTrusted => Trust == EvidenceTrust.Trusted;

    /// <summary>The verdict's short word, as the Evidence target and gate tables print it.</summary>
    public string Word => Trust switch
    {
        EvidenceTrust.Trusted => "trusted",
        EvidenceTrust.Unsigned => "unsigned",
        EvidenceTrust.UntrustedKey => "untrusted key",
        EvidenceTrust.BadSignature => "bad signature",
        EvidenceTrust.OtherSubject => "other subject",
        EvidenceTrust.WrongKind => "wrong kind",
        _ => "malformed",
    };
}
