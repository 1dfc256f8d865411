// PromoteProduction: the production gates first (nothing written until every gate passes; with approvals the
// GitOps pull request is opened for review), then the registry promotion of the staging digest, GitOps, the record.
Phase("PromoteProduction", "Gate, then copy the staging digest into the production repository and move the production tag",
    async () =>
    {
        CheckEnvironmentArgument("production");
        var autoMerge = Argument<string>("auto-merge", null) is { } am ? (bool?)bool.Parse(am) : null;
        var outcome = await new GatedPromotion(Session).PromoteAsync(new GatedPromotionRequest(Argument("from", "staging"), "production")
        {
            Digest = RequestedDigest(), AutoMerge = autoMerge,
        }, CancellationToken.None);
        ReportPromotion(outcome);
    }, "digest", "from");

void ReportPromotion(GatedPromotionOutcome outcome)
{
    var url = outcome.GitOps?.PullRequestUrl ?? outcome.Record.PullRequestUrl;
    if (url is not null) Ci.SetOutput(ImagePromotion.Ci.OutputNames.PullRequestUrl, url);
    if (!Session.DryRun) Ci.AppendSummary(outcome.Record.ToMarkdown(Ci.Identity));
    if (outcome.Copy is { } copy) PublishImage(copy);
    if (!Session.DryRun) outcome.ThrowIfRefused();
    else if (outcome.Refused) Log.Warning("dry run: the gates above would refuse this promotion");
}
