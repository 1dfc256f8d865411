// PromoteProduction: every environment of the group (or the environment) named production, in one run, each with
// its own gates (nothing written until they pass; with approvals the GitOps pull request is opened for review),
// then copy by digest, GitOps, the tag moves and the records. --environment=NAME picks one environment of the group.
// Under --dryrun it is the plan a reviewer approves (promote-production.yml's plan job): see ReportPlan.
Phase("PromoteProduction", "Gate, then copy the staging digests into production and move the production tags",
    async () =>
    {
        var result = await Pipeline().PromoteAsync(Selection(), "production", Argument<string>("environment", null), Argument<string>("from", null), AutoMerge(), CancellationToken.None);
        if (Session.DryRun) { ReportPlan(result); return; }
        ReportPromotion(result);
        // What Port's catalogue is pointed at: the digest this run moved, never text the caller sent.
        PromotedDigest = result.Plan.Releases.FirstOrDefault(r => !r.Refused)?.Images[0].Digest.Value?.ToString();
    }, "digest=sha256:…", "image=REF@sha256:…", "environment=NAME", "from=ENV", "auto-merge=true|false");

// Promote: into any environment or group of the graph (--environment=NAME), from its upstream (or --from=ENV).
Phase("Promote", "Promote into --environment=NAME (an environment or a group) from its from: environment",
    async () =>
    {
        var into = Argument<string>("environment", null) ?? throw new PromotionException("Promote needs --environment=NAME: the environment or group to promote into");
        ReportPromotion(await Pipeline().PromoteAsync(Selection(), into, null, Argument<string>("from", null), AutoMerge(), CancellationToken.None));
    }, "environment=NAME", "from=ENV", "digest=sha256:…", "image=REF@sha256:…", "auto-merge=true|false");

/// <summary>
/// The plan a reviewer approves (a dry run): per release the digests, every gate's verdict and the GitOps diff, in the
/// step summary, and the first image's digest and pinned reference as the outputs digest and image, which the
/// protected job promotes exactly (--digest=). A plan the gates refuse fails, so nobody is asked to approve a
/// promotion that would be refused; a pending gate (approvals read from the pull request) is shown as waiting.
/// </summary>
void ReportPlan(PhaseResult result)
{
    foreach (var release in result.Plan.Releases)
    {
        var summary = new ImagePromotion.Ci.PromotionSummary($"{release.Application}: plan {release.From} → {release.To} (dry run)").WithRun(Ci.Identity, Ci.RunUrl);
        foreach (var image in release.Images) summary.AddDigest(release.To, image.Destination, image.Digest.ToString());
        foreach (var gate in release.Gates)
            summary.AddGate(gate.Label, gate.Passed ? "passed" : gate.Pending ? "waiting" : "failed", gate.Reason);
        var diffs = release.GitOps?.Files.Where(f => f.Diff.Length > 0).ToArray() ?? Array.Empty<ImagePromotion.Pipeline.Planning.GitOpsFilePlan>();
        foreach (var file in diffs) summary.AddCodeBlock("diff", file.Diff);
        if (diffs.Length == 0) summary.AddNote(release.GitOps is null ? "GitOps: no manifest change planned" : "GitOps: the manifests already hold these images");
        Ci.AppendSummary(summary.ToMarkdown());
    }
    if (result.Plan.Releases.FirstOrDefault() is { } first && first.Images[0].Digest.Value is { } digest)
    {
        var planned = ImagePromotion.Registry.ImageReference.Parse(first.Images[0].Destination);
        Ci.SetOutput(ImagePromotion.Ci.OutputNames.Digest, digest.ToString());
        Ci.SetOutput(ImagePromotion.Ci.OutputNames.Image, $"{planned.Name}:{planned.Tag}@{digest}");
    }
    var refused = result.Plan.Releases.Where(r => r.Refused).ToArray();
    if (refused.Length > 0)
        throw new PromotionException("dry run: " + string.Join(" | ", refused.Select(r =>
            $"the {r.Kind} of {r.Application} into {r.To} would be refused by gate(s): {string.Join("; ", r.Gates.Where(g => !g.Passed && !g.Pending).Select(g => $"{g.Label} ({g.Reason})"))}"))
            + "; nothing was written");
}
