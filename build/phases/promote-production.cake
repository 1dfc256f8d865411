// PromoteProduction: every environment of the group (or the environment) named production, in one run, each with
// its own gates (nothing written until they pass; with approvals the GitOps pull request is opened for review),
// then copy by digest, GitOps, the tag moves and the records. --environment=NAME picks one environment of the group.
Phase("PromoteProduction", "Gate, then copy the staging digests into production and move the production tags",
    async () =>
    {
        ReportPromotion(await Pipeline().PromoteAsync(Selection(), "production", Argument<string>("environment", null), Argument<string>("from", null), AutoMerge(), CancellationToken.None));
    }, "digest=sha256:…", "image=REF@sha256:…", "environment=NAME", "from=ENV", "auto-merge=true|false");

// Promote: into any environment or group of the graph (--environment=NAME), from its upstream (or --from=ENV).
Phase("Promote", "Promote into --environment=NAME (an environment or a group) from its from: environment",
    async () =>
    {
        var into = Argument<string>("environment", null) ?? throw new PromotionException("Promote needs --environment=NAME: the environment or group to promote into");
        ReportPromotion(await Pipeline().PromoteAsync(Selection(), into, null, Argument<string>("from", null), AutoMerge(), CancellationToken.None));
    }, "environment=NAME", "from=ENV", "digest=sha256:…", "image=REF@sha256:…", "auto-merge=true|false");
