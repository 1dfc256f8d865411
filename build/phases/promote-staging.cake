// PromoteStaging: tag-based promotion, a pure manifest retag inside the dev repository.
Phase("PromoteStaging", "Point the staging tag at the commit's digest (same repository: one manifest write)",
    async () =>
    {
        CheckEnvironmentArgument("staging");
        PublishImage(await new Promotions(Session).PromoteAsync(Session.Config.Environments[0].Name, "staging",
            RequestedDigest(), CancellationToken.None));
    }, "digest")
    .IsDependentOn("PushDev");
