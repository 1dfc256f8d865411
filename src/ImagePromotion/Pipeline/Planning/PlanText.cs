using System.Globalization;
using ImagePromotion.Copy;

namespace ImagePromotion.Pipeline.Planning;

/// <summary>A plan in words: what a dry run prints (and a real run logs at diagnostic verbosity) before it writes.</summary>
public static class PlanText
{
    /// <summary>The plan's lines: per release its images (blobs, manifests, tag), gates and GitOps change.</summary>
    public static IEnumerable<string> Describe(PromotionPlan plan)
    {
        var prefix = plan.DryRun ? "dry run: " : "";
        yield return $"{prefix}plan: {plan.Operation}";
        foreach (var build in plan.Builds)
            yield return build.Existing is { } d
                ? $"  {build.Application}/{build.Image}: already built for this commit ({d} {build.Where}): not building again"
                : $"  {build.Application}/{build.Image}: {(plan.DryRun ? "would build" : "build")} {build.Context} ({Path.GetFileName(build.Containerfile)}) with {build.Builder} into the layout as {build.LayoutTag}";
        foreach (var release in plan.Releases)
        {
            yield return $"  {release.Application}: {release.Kind} {release.From ?? "build"} -> {release.To}{(release.ReleaseTag is { } t ? $" as {t}" : "")}{(release.RollbackTo is { } r ? $" back to {r}" : "")}";
            foreach (var image in release.Images)
            {
                yield return $"    image {image.Image}: {image.Source} {(image.Digest.IsKnown ? $"({image.Digest})" : image.Digest.ToString())} -> {image.Destination}";
                if (image.UpToDate)
                {
                    yield return $"      {image.Destination} already points at {image.Digest}: nothing to write";
                    continue;
                }
                if (image.SameRepository) yield return "      same repository: the tag moves, nothing is copied";
                else if (!image.Digest.IsKnown) yield return "      blobs: planned once the image exists";
                foreach (var b in image.Blobs)
                    yield return string.Create(CultureInfo.InvariantCulture, $"      blob {Short(b.Digest)} {CopyPlan.Size(b.Size),10}  {b.Action.ToString().ToLowerInvariant()}: {b.Reason}");
                foreach (var m in image.Manifests) yield return $"      manifest {Short(m)} push by digest";
                var tag = image.Tag.Reference[(image.Tag.Reference.LastIndexOf(':') + 1)..];
                yield return $"      tag {tag}: {image.Tag.Old?.ToString() ?? "(new)"} -> {image.Tag.New}";
            }
            if (release.Gated)
            {
                yield return $"    gates for {release.From} -> {release.To}:";
                foreach (var line in release.Report.ToTable().Split('\n')) yield return "      " + line;
            }
            if (release.GitOps is { } g)
                foreach (var line in GitOps(g, plan.DryRun)) yield return "    " + line;
            if (release.Refused) yield return $"    refused: nothing of {release.Application} is written to {release.To}";
        }
        if (plan.DryRun) yield return "dry run: nothing written";
    }

    private static IEnumerable<string> GitOps(GitOpsPlan g, bool dryRun)
    {
        var would = dryRun ? "dry run: would" : "will";
        var pr = g.PullRequestRepository is { } repo
            ? $", then open or update the pull request '{g.Title}' on {repo}{(g.AutoMerge ? " and merge it once the tags moved" : "")}" : "";
        yield return g.Action switch
        {
            GitOpsAction.None => $"gitops: {g.BaseBranch} of {g.Repository} already holds every image: no commit, no pull request",
            GitOpsAction.CommitToBranch => $"{(dryRun ? "dry run: would commit" : "gitops: will commit")} on {g.Branch} of {g.Repository} ({g.Files.Count} file(s)) and push it{pr}",
            GitOpsAction.BranchUpToDate => $"gitops: {g.Branch} of {g.Repository} already holds this change: nothing to push{(pr.Length > 0 ? $"; {would} open or update the pull request '{g.Title}' on {g.PullRequestRepository}" : "")}",
            GitOpsAction.CommitToBase => $"{(dryRun ? "dry run: would commit" : "gitops: will commit")} on {g.BaseBranch} of {g.Repository} (direct mode, no review) and push it",
            _ => $"gitops: {string.Join(", ", g.Files.Select(f => f.Path))} of {g.Repository} will point at the digests this run produces (the diff is known once they exist)",
        };
        foreach (var file in g.Files.Where(f => f.Diff.Length > 0))
            foreach (var line in file.Diff.TrimEnd('\n').Split('\n')) yield return "  " + line;
    }

    private static string Short(string digest) => digest.Length > 19 ? digest[..19] : digest;
}
