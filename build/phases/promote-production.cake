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
    if (Session.DryRun) { ReportPlan(outcome); return; }
    // Always written (empty without a pull request): CodeBuild exports every listed variable, GitHub reads every output.
    Ci.SetOutput(ImagePromotion.Ci.OutputNames.PullRequestUrl, outcome.GitOps?.PullRequestUrl ?? outcome.Record.PullRequestUrl ?? "");
    Ci.AppendSummary(outcome.Record.ToMarkdown(Ci.Identity));
    if (outcome.Copy is { } copy) PublishImage(copy);
    outcome.ThrowIfRefused();
    PromotedDigest = outcome.Digest;
}

/// <summary>
/// The plan a reviewer approves (the dry run of promote-production.yml's plan job): the digest, every gate's verdict
/// and the GitOps diff, in the summary and as the outputs digest and image; the protected job promotes exactly that
/// digest. A plan the gates refuse fails, so nobody is asked to approve a promotion that would be refused.
/// </summary>
void ReportPlan(GatedPromotionOutcome outcome)
{
    var record = outcome.Record;
    var planned = ImagePromotion.Registry.ImageReference.Parse(record.ToReference).WithDigest(ImagePromotion.Registry.Digest.Parse(outcome.Digest));
    var summary = new ImagePromotion.Ci.PromotionSummary($"{Session.Config.Service}: plan {record.From} → {record.To} (dry run)").WithRun(Ci.Identity, Ci.RunUrl);
    summary.AddDigest(record.To, record.ToReference, outcome.Digest);
    foreach (var gate in outcome.Gates?.Results ?? Array.Empty<ImagePromotion.Gates.GateResult>())
        summary.AddGate(gate.Gate, gate.Passed ? "passed" : "failed", gate.Reason);
    if (outcome.GitOps?.Diff is { Length: > 0 } diff) summary.AddCodeBlock("diff", diff);
    else summary.AddNote(outcome.GitOps is null ? "GitOps: no manifest change planned" : "GitOps: the manifests already hold this image");
    Ci.AppendSummary(summary.ToMarkdown());
    Ci.SetOutput(ImagePromotion.Ci.OutputNames.Digest, outcome.Digest);
    Ci.SetOutput(ImagePromotion.Ci.OutputNames.Image, planned.ToString());
    if (outcome.Refused)
    {
        var failed = outcome.Gates?.FailedGates.Select(g => $"{g.Gate} ({g.Reason})") ?? Array.Empty<string>();
        throw new PromotionException($"dry run: the promotion of {outcome.Digest} to {record.To} would be refused by gate(s): {string.Join("; ", failed)}; nothing was written");
    }
}
