using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.GitOps.Git;
using ImagePromotion.GitOps.Manifests;
using ImagePromotion.GitOps.PullRequests;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline;

/// <summary>What the GitOps step did: the branch and commit, and the pull request when one was opened.</summary>
public sealed record GitOpsOutcome(string Branch, string? Commit, bool Changed, IReadOnlyList<string> Files, string? Diff)
{
    public string? PullRequestUrl { get; init; }
    public int? PullRequestNumber { get; init; }
    /// <summary>The pull request's head commit as GitHub sees it: approvals count only when bound to it.</summary>
    public string? PullRequestHeadSha { get; init; }
    public bool? Merged { get; init; }
    public string? MergeReason { get; init; }
}

/// <summary>
/// After a registry promotion, points the environment's GitOps manifests at the promoted digest, the
/// Kargo way: clone, edit (only the image bytes), commit on a deterministic branch, push, and open or
/// update the pull request (optionally merging it). In direct mode the commit goes to the base branch.
/// </summary>
public sealed class GitOpsPromotion(PromotionSession session)
{
    public async Task<GitOpsOutcome?> RunAsync(EnvironmentSettings environment, CopyResult promoted, string? sourceEnvironment,
        bool? autoMergeOverride, CancellationToken ct)
    {
        var settings = environment.GitOps;
        if (settings is null) return null;
        if (!Digest.TryParse(promoted.SourceDigest, out _))
        {
            session.Log.Information($"dry run: the GitOps manifests of {environment.Name} would then point at that digest");
            return null;
        }
        var target = ImageReference.Parse(promoted.Destination);
        var digest = Digest.Parse(promoted.SourceDigest);
        var image = settings.PinDigest ? target.WithTagAndDigest(target.Tag, digest).ToString() : target.ToString();
        var description = new PromotionDescription(session.Config.Service, environment.Name, promoted.Source,
            target.WithTagAndDigest(target.Tag, digest).ToString(), settings.Manifests)
        {
            SourceEnvironment = sourceEnvironment,
            TriggeredBy = session.Options.Identity,
            RunUrl = session.Options.RunUrl,
        };

        var token = settings.GitHub is { } gh ? Environment(gh.TokenEnv) : Environment("GITOPS_TOKEN");
        var remote = IsUrl(settings.Repository) ? settings.Repository : session.Config.ResolvePath(settings.Repository);
        var workDirectory = Path.Combine(session.ArtifactsDirectory, "gitops", environment.Name);
        var (authorName, authorEmail) = Author(session.Options.Identity);
        var request = new GitPublishRequest(
            // A token is an HTTP header: a local path or SSH remote authenticates otherwise, so it is not passed.
            new GitRepositoryOptions(remote, settings.BaseBranch, workDirectory) { Token = IsHttp(remote) ? token : null },
            new GitOpsChange(PromotionBranch.For(environment.Name, session.Config.Service, digest), description.CommitMessage, authorName, authorEmail))
        {
            Mode = session.DryRun ? GitPublishMode.DryRun : settings.Mode == "direct" ? GitPublishMode.DirectPush : GitPublishMode.PullRequestBranch,
        };

        ManifestTarget manifestTarget = settings.Path is { } path ? new YamlPathTarget(path) : new ContainerImageTarget(settings.Container);
        // One commit for every manifest; a rejected push is retried on the new remote head, and the pushed
        // branch is read back: it must pin the image, or the publish fails naming what it pins.
        var edits = settings.Manifests.Select(manifest => new ManifestImageEdit(manifest, manifestTarget, image)).ToList();
        var published = await new GitPublisher(session.Log).PublishAsync(request, edits, ct).ConfigureAwait(false);
        var outcome = new GitOpsOutcome(published.Branch, published.CommitSha, published.Pushed, published.ChangedFiles, published.Diff);
        if (published.Outcome == GitPublishOutcome.DryRun)
        {
            session.Log.Information(string.IsNullOrEmpty(published.Diff)
                ? $"dry run: GitOps manifests of {environment.Name} already hold {image}"
                : $"dry run: would commit on {published.Branch} of {GitRemoteUrl.Describe(remote)}:\n{published.Diff}");
            if (settings.GitHub is { } planned && request.Mode != GitPublishMode.DirectPush && settings.Mode != "direct")
                session.Log.Information($"dry run: would open or update the pull request '{description.Title}' on {planned.Owner}/{planned.Repository}");
            return outcome;
        }
        session.Log.Information(published.Pushed
            ? $"GitOps: committed {published.CommitSha?[..Math.Min(12, published.CommitSha.Length)]} on {published.Branch} ({string.Join(", ", published.ChangedFiles)})"
            : published.OnBaseBranch ? $"GitOps: {settings.BaseBranch} already holds {image}; no branch, no pull request"
            : $"GitOps: {published.Branch} already holds {image}; nothing pushed");

        if (settings.GitHub is not { } github || settings.Mode == "direct" || published.OnBaseBranch) return outcome;
        if (string.IsNullOrEmpty(token))
            throw new PromotionException($"GitOps for {environment.Name} opens pull requests on {github.Owner}/{github.Repository} but {github.TokenEnv} is not set: export a token with pull-request and contents write access");
        var pulls = new GitHubPullRequests(new GitHubRepositoryOptions(github.Owner, github.Repository, token, github.BaseUrl == "https://api.github.com" ? null : github.BaseUrl), session.Log);
        var autoMerge = autoMergeOverride ?? github.AutoMerge;
        var pr = await pulls.OpenOrUpdateAsync(new PullRequestSpec(published.Branch, settings.BaseBranch, description.Title, description.PullRequestBody)
        {
            Labels = github.Labels, Reviewers = github.Reviewers, Assignees = github.Assignees,
            AutoMerge = autoMerge ? Enum.Parse<MergeMethod>(github.MergeMethod, ignoreCase: true) : null,
            ExpectedHeadSha = published.CommitSha,
        }, ct).ConfigureAwait(false);
        foreach (var warning in pr.Warnings) session.Log.Warning(warning);
        session.Log.Information($"pull request {(pr.Created ? "opened" : "updated")}: {pr.HtmlUrl}");
        if (pr.Merge is { } merge)
            session.Log.Information(merge.Merged ? $"pull request #{pr.Number} merged ({merge.Sha})" : $"pull request #{pr.Number} not merged: {merge.Reason}");
        return outcome with { PullRequestUrl = pr.HtmlUrl, PullRequestNumber = pr.Number, PullRequestHeadSha = pr.HeadSha, Merged = pr.Merge?.Merged, MergeReason = pr.Merge?.Reason };
    }

    private string? Environment(string name) =>
        (session.Options.Environment ?? Registry.Auth.CredentialStore.ReadProcessEnvironment()).GetValueOrDefault(name) is { Length: > 0 } v ? v : null;

    private static bool IsHttp(string remote) =>
        remote.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || remote.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    private static bool IsUrl(string repository) =>
        repository.Contains("://", StringComparison.Ordinal) || repository.StartsWith("git@", StringComparison.Ordinal);

    /// <summary>"Name &lt;email&gt;", an email, or a CI login: the commit's author is whoever triggered the run.</summary>
    internal static (string Name, string Email) Author(string identity)
    {
        var lt = identity.IndexOf('<');
        var gt = identity.IndexOf('>');
        if (lt > 0 && gt > lt) return (identity[..lt].Trim(), identity[(lt + 1)..gt].Trim());
        if (identity.Contains('@')) return (identity.Split('@')[0], identity);
        var login = string.IsNullOrWhiteSpace(identity) ? "image-promotion" : identity.Trim();
        return (login, $"{login}@users.noreply.github.com");
    }
}
