// PromoteStaging: tag-based promotion, a pure manifest retag inside the dev repository, through staging's gates
// (if any); the record it writes is staging's history, which production's staging gate reads. It never builds or
// pushes: it promotes --digest/--image, or the commit's dev tag that PushDev (run by whoever asked for it) left.
Phase("PromoteStaging", "Point the staging tag at the commit's digest (same repository: one manifest write)",
    async () =>
    {
        CheckEnvironmentArgument("staging");
        ReportPromotion(await new GatedPromotion(Session).PromoteAsync(
            new GatedPromotionRequest(Session.Config.Environments[0].Name, "staging") { Digest = RequestedDigest() }, CancellationToken.None));
    }, "digest");
