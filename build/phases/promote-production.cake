// PromoteProduction: repository/registry-based promotion of the staging digest; the replaced tag is reported.
Phase("PromoteProduction", "Copy the staging digest into the production repository and move the production tag",
    async () =>
    {
        CheckEnvironmentArgument("production");
        PublishImage(await new Promotions(Session).PromoteAsync("staging", "production",
            RequestedDigest(), CancellationToken.None));
    }, "digest");
