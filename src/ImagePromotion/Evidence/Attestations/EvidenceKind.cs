namespace ImagePromotion.Evidence.Attestations;

/// <summary>The jobs that sign evidence, each with a key of its own: a job holds only the key of what it vouches for.</summary>
public enum KeyRole
{
    /// <summary>The job that builds and pushes (BuildOnce, PushDev): build provenance and push records.</summary>
    Build,
    /// <summary>The job that scans (Scan): scan results.</summary>
    Scan,
    /// <summary>The job that reads the reviews of the promotion pull request: approval decisions.</summary>
    Approval,
    /// <summary>The jobs that move environment tags (PromoteStaging, PromoteProduction, ReleaseTag, Rollback): promotion records.</summary>
    Promotion,
}

/// <summary>
/// What a piece of evidence is: its in-toto predicate type, the artifact type earlier (unsigned) versions stored it
/// under, the role whose key signs it and how to make a new signed one. Predicate types are URIs with a version,
/// as the in-toto attestation framework asks (attestation/spec/v1/statement.md); SLSA's is SLSA's own.
/// </summary>
public sealed record EvidenceKind(string Name, string Plural, string PredicateType, string? LegacyArtifactType, KeyRole Role, string Renew)
{
    /// <summary>SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance): which commit which builder turned into the digest.</summary>
    public static readonly EvidenceKind BuildProvenance = new("build provenance", "build provenance", "https://slsa.dev/provenance/v1", null, KeyRole.Build,
        "push the image again with the build key set (PushDev attaches provenance to an image that has none)");

    /// <summary>Scan results of the Scan target, signed by the scan key.</summary>
    public static readonly EvidenceKind ScanResult = new("scan result", "scan results", "https://imagepromotion.dev/attestation/scan-result/v1",
        Scanning.ScanResult.ArtifactMediaType, KeyRole.Scan, "re-scan: ./build.sh --target=Scan --image=REF@DIGEST with the scan key set");

    /// <summary>Approval decisions read from the promotion pull request's reviews, signed by the approval key.</summary>
    public static readonly EvidenceKind ApprovalDecision = new("approval decision", "approval decisions", "https://imagepromotion.dev/attestation/approval/v1",
        "application/vnd.imagepromotion.approval.v1+json", KeyRole.Approval,
        "re-approve: run the promotion again with the approval key set; the reviews are read from the pull request again and recorded signed");

    /// <summary>Promotion records of the jobs that move environment tags, signed by the promotion key.</summary>
    public static readonly EvidenceKind PromotionRecord = new("promotion record", "promotion records", "https://imagepromotion.dev/attestation/promotion-record/v1",
        "application/vnd.imagepromotion.promotion-record.v1+json", KeyRole.Promotion, "promote again with the promotion key set");

    /// <summary>Every kind this pipeline writes and checks, in pipeline order.</summary>
    public static IReadOnlyList<EvidenceKind> All { get; } = [BuildProvenance, ScanResult, ApprovalDecision, PromotionRecord];

    /// <summary>The kind whose predicate type is <paramref name="predicateType"/>; null for someone else's predicate.</summary>
    public static EvidenceKind? FromPredicateType(string? predicateType) => All.FirstOrDefault(k => k.PredicateType == predicateType);

    /// <summary>The kind earlier unsigned versions stored under <paramref name="artifactType"/>; null for none.</summary>
    public static EvidenceKind? FromLegacyArtifactType(string? artifactType) =>
        artifactType is null ? null : All.FirstOrDefault(k => k.LegacyArtifactType == artifactType);

    /// <summary>The environment variable suffix of a role: <c>BUILD</c>, <c>SCAN</c>, <c>APPROVAL</c>, <c>PROMOTION</c>.</summary>
    public static string RoleName(KeyRole role) => role.ToString().ToUpperInvariant();

    /// <summary>The kind's singular name (<c>scan result</c>).</summary>
    public override string ToString() => Name;
}
