// PromoteProduction: repository/registry-based promotion of the staging digest; the replaced tag is reported.
Phase("PromoteProduction", "Copy the staging digest into the production repository and move the production tag",
    async () =>
    {
        CheckEnvironmentArgument("production");
        var result = await new Promotions(Session).PromoteAsync("staging", "production", RequestedDigest(), CancellationToken.None);
        PublishImage(result);
        // GitOps after the registry: the manifests never name a digest the production registry lacks.
        var autoMerge = Argument<string>("auto-merge", null) is { } am ? (bool?)bool.Parse(am) : null;
        var gitops = await new GitOpsPromotion(Session).RunAsync(Session.Config.Environment("production"), result, "staging", autoMerge, CancellationToken.None);
        if (gitops?.PullRequestUrl is { } url) Ci.SetOutput(ImagePromotion.Ci.OutputNames.PullRequestUrl, url);
    }, "digest");
