using ImagePromotion.Logging;

namespace ImagePromotion.GitOps.Git;

/// <summary>
/// Kargo's git-commit + git-push steps: apply an edit to the GitOps repository, commit it as the person who
/// triggered the promotion, and push it to a promotion branch (for a pull request) or straight to the base
/// branch. When the remote moves between our fetch and our push, the push is rejected as non-fast-forward;
/// we then start again from the new remote head and re-apply the edit, which is safer than a textual rebase
/// because the edit ("set this image to this digest") is recomputed against what is really there.
/// </summary>
public sealed class GitPublisher(IPipelineLog log)
{
    public async Task<GitPublishResult> PublishAsync(
        GitPublishRequest request,
        Func<string, CancellationToken, Task<IReadOnlyList<string>>> edit,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(edit);
        if (request.MaxAttempts < 1)
            throw new PromotionException($"The push attempt limit is {request.MaxAttempts}; set it to 1 or more.");
        var change = request.Change;
        CommitIdentity.Validate(change.AuthorName, change.AuthorEmail, "author");
        CommitIdentity.Validate(request.CommitterName, request.CommitterEmail, "committer");
        if (string.IsNullOrWhiteSpace(change.Message))
            throw new PromotionException($"The commit message for branch '{change.Branch}' is empty; describe the promotion (service, environment, image digest).");

        var repository = new GitOpsRepository(request.Repository, log);
        var direct = request.Mode == GitPublishMode.DirectPush;
        var target = direct ? repository.BaseBranch : change.Branch;
        await repository.EnsureValidBranchNameAsync(target, direct ? "base branch" : "promotion branch", ct).ConfigureAwait(false);
        if (request.Mode == GitPublishMode.PullRequestBranch && target == repository.BaseBranch)
            throw new PromotionException($"The promotion branch '{target}' is the base branch; give the promotion its own branch (e.g. promote/<environment>/<service>-<digest>) or use direct-push mode.");

        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var baseHead = await repository.SyncAsync(ct).ConfigureAwait(false);
            // Looked up before editing so that a branch someone creates meanwhile shows up as a rejected push.
            var branchHead = direct ? null : await repository.RemoteBranchHeadAsync(target, ct).ConfigureAwait(false);

            // First against the base: if it already holds the change (an earlier pull request was merged,
            // or another run pushed directly), there is nothing to commit and nothing to review.
            await repository.CheckoutAsync(target, GitOpsRepository.RemoteRef(repository.BaseBranch), ct).ConfigureAwait(false);
            var changed = await ApplyAsync(repository, edit, ct).ConfigureAwait(false);
            if (request.Mode == GitPublishMode.DryRun)
            {
                var diff = (await repository.Git.RunAsync(repository.WorkTree, ["diff", "--cached", "--no-color", "--no-ext-diff"], ct).ConfigureAwait(false)).StandardOutput;
                log.Information($"Dry run: {changed.Count} file(s) would change on {repository.BaseBranch} of {repository.RemoteDescription}; nothing committed or pushed.");
                return new GitPublishResult(GitPublishOutcome.DryRun, target, baseHead, changed, 0, diff);
            }
            if (changed.Count == 0)
                return UpToDate(repository, repository.BaseBranch, baseHead, attempt);

            if (branchHead != null)
            {
                // Build on the existing promotion branch rather than overwriting it: a re-run then finds
                // its change already there, and a reviewer's fix-up commit on the branch survives.
                await repository.FetchAsync(target, ct).ConfigureAwait(false);
                await repository.CheckoutAsync(target, GitOpsRepository.RemoteRef(target), ct).ConfigureAwait(false);
                changed = await ApplyAsync(repository, edit, ct).ConfigureAwait(false);
                if (changed.Count == 0)
                    return UpToDate(repository, target, branchHead, attempt);
            }

            await repository.Git.RunAsync(repository.WorkTree,
            [
                "-c", "user.name=" + request.CommitterName, "-c", "user.email=" + request.CommitterEmail, "-c", "commit.gpgsign=false",
                "commit", "--quiet", "--no-verify", "--author", $"{change.AuthorName} <{change.AuthorEmail}>", "-m", change.Message,
            ], ct).ConfigureAwait(false);
            var commit = await repository.HeadAsync(ct).ConfigureAwait(false);

            var push = await repository.Git.TryRunAsync(repository.WorkTree, ["push", "--porcelain", "origin", "HEAD:refs/heads/" + target], ct).ConfigureAwait(false);
            if (push.Succeeded)
            {
                log.Information($"Pushed {Short(commit)} to {target} of {repository.RemoteDescription} ({changed.Count} file(s), attempt {attempt}).");
                return new GitPublishResult(GitPublishOutcome.Pushed, target, commit, changed, attempt) { OnBaseBranch = direct };
            }
            if (!IsRejectedAsStale(push))
                throw GitCli.Failure(["push"], push, $"remote {repository.RemoteDescription}, branch {target}");
            if (attempt >= request.MaxAttempts)
                throw new PromotionConflictException($"git push to {target} of {repository.RemoteDescription} was rejected {attempt} times because others kept pushing to it; re-run the promotion or raise the attempt limit.");
            log.Warning($"{target} of {repository.RemoteDescription} moved while we committed; re-applying the change on the new head (attempt {attempt + 1} of {request.MaxAttempts}).");
        }
    }

    private GitPublishResult UpToDate(GitOpsRepository repository, string holder, string sha, int attempt)
    {
        log.Information($"{holder} of {repository.RemoteDescription} already holds this change (commit {Short(sha)}); nothing to push.");
        return new GitPublishResult(GitPublishOutcome.AlreadyUpToDate, holder, sha, [], attempt - 1) { OnBaseBranch = holder == repository.BaseBranch };
    }

    /// <summary>Runs the edit and stages everything it did; git, not the edit, says which files changed.</summary>
    private static async Task<IReadOnlyList<string>> ApplyAsync(GitOpsRepository repository, Func<string, CancellationToken, Task<IReadOnlyList<string>>> edit, CancellationToken ct)
    {
        await edit(repository.WorkTree, ct).ConfigureAwait(false);
        await repository.Git.RunAsync(repository.WorkTree, ["add", "--all", "--", "."], ct).ConfigureAwait(false);
        var output = await repository.Git.RunAsync(repository.WorkTree, ["-c", "core.quotePath=false", "diff", "--cached", "--name-only", "--no-renames"], ct).ConfigureAwait(false);
        return output.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>
    /// "[rejected]" is git's word for a ref update that is not a fast-forward (someone pushed first);
    /// "[remote rejected]" (a hook or branch protection said no) is a different story and is not retried.
    /// </summary>
    private static bool IsRejectedAsStale(GitOutput push) =>
        (push.StandardOutput + push.StandardError).Split('\n').Any(l => l.Contains("[rejected]", StringComparison.Ordinal));

    internal static string Short(string? sha) => sha is { Length: > 12 } ? sha[..12] : sha ?? "";
}

internal static class CommitIdentity
{
    public static void Validate(string? name, string? email, string role)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['<', '>', '\n', '\r']) >= 0)
            throw new PromotionException($"The commit {role} name '{name}' is empty or contains '<', '>' or a line break; pass the display name of the {role} (e.g. the user who triggered the promotion).");
        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@') || email.IndexOfAny(['<', '>', '\n', '\r', ' ']) >= 0)
            throw new PromotionException($"The commit {role} email '{email}' is not an email address; pass e.g. login@users.noreply.github.com.");
    }
}
