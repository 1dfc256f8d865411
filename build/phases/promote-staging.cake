// PromoteStaging: tag-based promotion, a pure manifest retag inside the dev repository.
Phase("PromoteStaging", "Point the staging tag at the commit's digest (same repository: one manifest write)",
    async () =>
    {
        var digest = Argument<string>("digest", null);
        await new Promotions(Session).PromoteAsync(Session.Config.Environments[0].Name, "staging",
            digest is null ? null : ImagePromotion.Registry.Digest.Parse(digest), CancellationToken.None);
    }, "digest")
    .IsDependentOn("PushDev");
