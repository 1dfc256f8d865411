// PromoteStaging: every image of each application into staging (tag-based inside one repository: a manifest retag),
// through staging's gates (if any); the record it writes is staging's history, which production's staging gate reads.
// BuildOnce and PushDev come first unless --image/--digest names the artifact.
Phase("PromoteStaging", "Point the staging tags at the commit's digests (same repository: one manifest write per image)",
    async () => ReportPromotion(await Pipeline().PromoteAsync(Selection(), "staging", Argument<string>("environment", null), null, null, CancellationToken.None)),
    "digest")
    .IsDependentOn("PushDev");
