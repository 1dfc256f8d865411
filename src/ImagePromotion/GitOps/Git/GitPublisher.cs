using ImagePromotion.GitOps.Manifests;
using ImagePromotion.Logging;
using Polly;
using Polly.Retry;

namespace ImagePromotion.GitOps.Git;

/// <summary>
/// Kargo's git-commit + git-push steps: apply an edit to the GitOps repository, commit it as the person who
/// triggered the promotion, and push it to a promotion branch (for a pull request) or straight to the base
/// branch. Every push is a compare-and-swap on the remote ref (<c>--force-with-lease=REF:EXPECTED</c>): the
/// base head we built on in direct mode, the promotion branch head we saw (or "absent") otherwise. A push that
/// loses a race (non-fast-forward, fetch first, stale info, the server's "cannot lock ref") is retried through
/// Polly: re-fetch, re-apply the edit on the new head, push again, a bounded number of times; re-applying is
/// safer than a textual rebase because the edit ("set this image to this digest") is recomputed against what is
/// really there. Afterwards the branch is fetched again and checked to hold the edit: the outcome is read back,
/// never assumed.
/// </summary>
public sealed class GitPublisher(IPipelineLog log)
{
    /// <summary>
    /// How many commits of an existing promotion branch are fetched to see whether it contains the current base
    /// head (a live branch: built upon) or not (left over from an earlier promotion: reset onto the base).
    /// A promotion branch is one commit on its base plus perhaps a few fix-ups.
    /// </summary>
    private const int BranchHistoryDepth = 20;

    /// <summary>
    /// Writes every <paramref name="edits"/> image in one commit (several images of one application, several
    /// manifests), then pushes it as <see cref="PublishAsync(GitPublishRequest, Func{string, CancellationToken, Task{IReadOnlyList{string}}}, CancellationToken)"/>
    /// does, and verifies the pushed branch pins every image (<see cref="GitPublishResult.Verified"/>).
    /// </summary>
    /// <exception cref="GitOpsSupersededException">The base no longer pins <see cref="GitPublishRequest.ExpectedPins"/>, or the branch does not hold the edit after the push.</exception>
    /// <exception cref="PromotionConflictException">Every attempt lost a push race.</exception>
    public Task<GitPublishResult> PublishAsync(GitPublishRequest request, IReadOnlyList<ManifestImageEdit> edits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(edits);
        if (edits.Count == 0)
            throw new PromotionException($"Nothing to publish on branch '{request?.Change.Branch}': give at least one manifest edit (manifest, target, image).");
        return RunAsync(request!, new ManifestEdits(edits, log), ct);
    }

    /// <summary>
    /// Runs <paramref name="edit"/> (given the work tree; it may run more than once, so it must be idempotent)
    /// and publishes what it changed. Verification re-runs the edit on the pushed branch and expects no change.
    /// </summary>
    public Task<GitPublishResult> PublishAsync(
        GitPublishRequest request,
        Func<string, CancellationToken, Task<IReadOnlyList<string>>> edit,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(edit);
        return RunAsync(request, new DelegateEdit(edit), ct);
    }

    /// <summary>
    /// What <paramref name="branch"/> (the base branch when null) of the remote pins now for each edit, freshly
    /// fetched: the read-back half of a compare-and-swap (pass it as <see cref="GitPublishRequest.ExpectedPins"/>),
    /// or a check after the fact that Git and the registry agree.
    /// </summary>
    public async Task<GitOpsPins> ReadPinnedAsync(GitRepositoryOptions repository, IReadOnlyList<ManifestImageEdit> edits, CancellationToken ct, string? branch = null)
    {
        ArgumentNullException.ThrowIfNull(edits);
        var repo = new GitOpsRepository(repository, log);
        var head = await repo.SyncAsync(ct).ConfigureAwait(false);
        var name = branch ?? repo.BaseBranch;
        if (name != repo.BaseBranch)
        {
            await repo.EnsureValidBranchNameAsync(name, "branch", ct).ConfigureAwait(false);
            await repo.FetchAsync(name, ct).ConfigureAwait(false);
            await repo.CheckoutAsync(name, GitOpsRepository.RemoteRef(name), ct).ConfigureAwait(false);
            head = await repo.HeadAsync(ct).ConfigureAwait(false);
        }
        return await new ManifestEdits(edits, log).ReadAsync(repo.WorkTree, name, head, ct).ConfigureAwait(false);
    }

    private async Task<GitPublishResult> RunAsync(GitPublishRequest request, EditSteps steps, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MaxAttempts < 1)
            throw new PromotionException($"The push attempt limit is {request.MaxAttempts}; set it to 1 or more.");
        if (request.RetryDelay < TimeSpan.Zero)
            throw new PromotionException($"The push retry delay is {request.RetryDelay}; set it to zero or more.");
        var change = request.Change;
        CommitIdentity.Validate(change.AuthorName, change.AuthorEmail, "author");
        CommitIdentity.Validate(request.CommitterName, request.CommitterEmail, "committer");
        if (string.IsNullOrWhiteSpace(change.Message))
            throw new PromotionException($"The commit message for branch '{change.Branch}' is empty; describe the promotion (service, environment, image digest).");
        if (request.ExpectedPins is not null && steps is not ManifestEdits)
            throw new PromotionException("ExpectedPins compares what the base branch pins, which needs the edits as ManifestImageEdit values; use that PublishAsync overload.");

        var repository = new GitOpsRepository(request.Repository, log);
        var direct = request.Mode == GitPublishMode.DirectPush;
        var target = direct ? repository.BaseBranch : change.Branch;
        await repository.EnsureValidBranchNameAsync(target, direct ? "base branch" : "promotion branch", ct).ConfigureAwait(false);
        if (request.Mode == GitPublishMode.PullRequestBranch && target == repository.BaseBranch)
            throw new PromotionException($"The promotion branch '{target}' is the base branch; give the promotion its own branch (e.g. promote/<environment>/<service>-<digest>) or use direct-push mode.");

        var attempts = 0;
        var pipeline = request.MaxAttempts == 1 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PushRaceException>(),
            MaxRetryAttempts = request.MaxAttempts - 1,
            Delay = request.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            OnRetry = args =>
            {
                log.Warning($"{target} of {repository.RemoteDescription} moved while we pushed ({args.Outcome.Exception?.Message}); re-fetching and re-applying the change on the new head (attempt {args.AttemptNumber + 2} of {request.MaxAttempts}).");
                return default;
            },
        }).Build();
        try
        {
            return await pipeline.ExecuteAsync(async token => await AttemptAsync(request, steps, repository, target, ++attempts, token).ConfigureAwait(false), ct).ConfigureAwait(false);
        }
        catch (PushRaceException race)
        {
            throw new PromotionConflictException($"git push to {target} of {repository.RemoteDescription} was rejected {attempts} times because others kept pushing to it (last: {race.Message}); re-run the promotion or raise the attempt limit.");
        }
    }

    private async Task<GitPublishResult> AttemptAsync(GitPublishRequest request, EditSteps steps, GitOpsRepository repository, string target, int attempt, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var direct = request.Mode == GitPublishMode.DirectPush;
        var baseBranch = repository.BaseBranch;
        var baseHead = await repository.SyncAsync(ct).ConfigureAwait(false);
        // Looked up before editing so that a branch someone creates meanwhile shows up as a lost race.
        var branchHead = direct ? null : await repository.RemoteBranchHeadAsync(target, ct).ConfigureAwait(false);
        if (request.ExpectedPins is { } expected && request.Mode != GitPublishMode.DryRun)
            await EnsureNotSupersededAsync(repository, (ManifestEdits)steps, expected, baseHead, ct).ConfigureAwait(false);

        // First against the base: if it already holds the change (an earlier pull request was merged,
        // or another run pushed directly), there is nothing to commit and nothing to review.
        await repository.CheckoutAsync(target, GitOpsRepository.RemoteRef(baseBranch), ct).ConfigureAwait(false);
        var changed = await ApplyAsync(repository, steps, ct).ConfigureAwait(false);
        if (request.Mode == GitPublishMode.DryRun)
        {
            var diff = (await repository.Git.RunAsync(repository.WorkTree, ["diff", "--cached", "--no-color", "--no-ext-diff"], ct).ConfigureAwait(false)).StandardOutput;
            log.Information($"Dry run: {changed.Count} file(s) would change on {baseBranch} of {repository.RemoteDescription}; nothing committed or pushed.");
            return new GitPublishResult(GitPublishOutcome.DryRun, target, baseHead, changed, 0, diff);
        }
        if (changed.Count == 0)
            return await UpToDateAsync(repository, steps, baseBranch, attempt, ct).ConfigureAwait(false);

        var reset = false;
        if (branchHead != null)
        {
            await repository.FetchAsync(target, ct, BranchHistoryDepth).ConfigureAwait(false);
            if (await repository.ContainsAsync(GitOpsRepository.RemoteRef(target), baseHead, ct).ConfigureAwait(false))
            {
                // A live promotion branch (made from the current base): build on it, so a re-run finds its
                // change already there and a reviewer's fix-up commit survives.
                await repository.CheckoutAsync(target, GitOpsRepository.RemoteRef(target), ct).ConfigureAwait(false);
                changed = await ApplyAsync(repository, steps, ct).ConfigureAwait(false);
                if (changed.Count == 0)
                    return await UpToDateAsync(repository, steps, target, attempt, ct).ConfigureAwait(false);
            }
            else
            {
                // Left by an earlier promotion of the same digest (merged, closed, or behind): what it holds says
                // nothing about the base now, so it is reset onto the base with the change (a rollback must change Git).
                reset = true;
                log.Information($"{target} of {repository.RemoteDescription} ({Short(branchHead)}) does not contain {baseBranch} ({Short(baseHead)}): left by an earlier promotion; resetting it onto {baseBranch} with this change.");
            }
        }

        var change = request.Change;
        await repository.Git.RunAsync(repository.WorkTree,
        [
            "-c", "user.name=" + request.CommitterName, "-c", "user.email=" + request.CommitterEmail, "-c", "commit.gpgsign=false",
            "commit", "--quiet", "--no-verify", "--author", $"{change.AuthorName} <{change.AuthorEmail}>", "-m", change.Message,
        ], ct).ConfigureAwait(false);
        var commit = await repository.HeadAsync(ct).ConfigureAwait(false);

        // The compare-and-swap: the ref must still be where we read it (absent for a new branch).
        var expectedHead = direct ? baseHead : branchHead ?? "";
        var push = await repository.Git.TryRunAsync(repository.WorkTree,
            ["push", "--porcelain", $"--force-with-lease=refs/heads/{target}:{expectedHead}", "origin", "HEAD:refs/heads/" + target], ct).ConfigureAwait(false);
        if (!push.Succeeded)
        {
            if (PushRace.Reason(push) is { } race) throw new PushRaceException(race);
            throw GitCli.Failure(["push"], push, $"remote {repository.RemoteDescription}, branch {target}");
        }
        log.Information($"Pushed {Short(commit)} to {target} of {repository.RemoteDescription} ({changed.Count} file(s), attempt {attempt}).");
        var verified = await VerifyAsync(repository, steps, target, ct).ConfigureAwait(false);
        return new GitPublishResult(GitPublishOutcome.Pushed, target, commit, changed, attempt) { OnBaseBranch = direct, Verified = verified, BranchReset = reset };
    }

    private async Task EnsureNotSupersededAsync(GitOpsRepository repository, ManifestEdits steps, GitOpsPins expected, string baseHead, CancellationToken ct)
    {
        var now = await steps.ReadAsync(repository.WorkTree, repository.BaseBranch, baseHead, ct).ConfigureAwait(false);
        var same = now.Pins.Count == expected.Pins.Count
            && now.Pins.Zip(expected.Pins).All(p => p.First.Images.SequenceEqual(p.Second.Images, StringComparer.Ordinal));
        if (same || now.Pins.All(p => p.HoldsEdit)) return;
        throw new GitOpsSupersededException(
            $"{repository.BaseBranch} of {repository.RemoteDescription} now pins {now.Describe()} (commit {Short(baseHead)}), not {expected.Describe()} as when this promotion read it (commit {Short(expected.Commit)}): another promotion superseded this one; nothing pushed.", now);
    }

    private async Task<GitPublishResult> UpToDateAsync(GitOpsRepository repository, EditSteps steps, string holder, int attempt, CancellationToken ct)
    {
        var verified = await VerifyAsync(repository, steps, holder, ct).ConfigureAwait(false);
        var sha = await repository.HeadAsync(ct).ConfigureAwait(false);
        log.Information($"{holder} of {repository.RemoteDescription} already holds this change (commit {Short(sha)}); nothing to push.");
        return new GitPublishResult(GitPublishOutcome.AlreadyUpToDate, holder, sha, [], attempt - 1) { OnBaseBranch = holder == repository.BaseBranch, Verified = verified };
    }

    /// <summary>
    /// Fetches <paramref name="branch"/> again and checks its head holds the edit; otherwise another change
    /// landed on top (or the push did not take) and the promotion must not report success.
    /// </summary>
    private async Task<GitOpsPins?> VerifyAsync(GitOpsRepository repository, EditSteps steps, string branch, CancellationToken ct)
    {
        await repository.FetchAsync(branch, ct).ConfigureAwait(false);
        await repository.CheckoutAsync(branch, GitOpsRepository.RemoteRef(branch), ct).ConfigureAwait(false);
        var head = await repository.HeadAsync(ct).ConfigureAwait(false);
        var where = $"{branch} of {repository.RemoteDescription} (commit {Short(head)})";
        if (steps is ManifestEdits manifests)
        {
            var pins = await manifests.ReadAsync(repository.WorkTree, branch, head, ct).ConfigureAwait(false);
            var missing = pins.Pins.Where(p => !p.HoldsEdit).ToList();
            if (missing.Count > 0)
                throw new GitOpsSupersededException(
                    $"{where} does not hold this promotion: it pins {string.Join("; ", missing.Select(p => $"{p.Edit.Manifest}: {string.Join(", ", p.Images)} instead of {p.Edit.Image}"))}; another change landed on top of ours.", pins);
            log.Verbose($"{where} verified: {pins.Describe()}");
            return pins;
        }
        var differ = await ApplyAsync(repository, steps, ct).ConfigureAwait(false);
        if (differ.Count > 0)
            throw new GitOpsSupersededException($"{where} does not hold this promotion: {string.Join(", ", differ)} would still change; another change landed on top of ours.", null);
        return null;
    }

    /// <summary>Runs the edit and stages everything it did; git, not the edit, says which files changed.</summary>
    private static async Task<IReadOnlyList<string>> ApplyAsync(GitOpsRepository repository, EditSteps steps, CancellationToken ct)
    {
        await steps.ApplyAsync(repository.WorkTree, ct).ConfigureAwait(false);
        await repository.Git.RunAsync(repository.WorkTree, ["add", "--all", "--", "."], ct).ConfigureAwait(false);
        var output = await repository.Git.RunAsync(repository.WorkTree, ["-c", "core.quotePath=false", "diff", "--cached", "--name-only", "--no-renames"], ct).ConfigureAwait(false);
        return output.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    internal static string Short(string? sha) => sha is { Length: > 12 } ? sha[..12] : sha ?? "";

    /// <summary>How the publisher changes a work tree.</summary>
    private abstract class EditSteps
    {
        public abstract Task ApplyAsync(string workTree, CancellationToken ct);
    }

    private sealed class DelegateEdit(Func<string, CancellationToken, Task<IReadOnlyList<string>>> edit) : EditSteps
    {
        public override Task ApplyAsync(string workTree, CancellationToken ct) => edit(workTree, ct);
    }

    /// <summary>Image edits of manifests: written in order (several may touch one file), read back as pins.</summary>
    private sealed class ManifestEdits(IReadOnlyList<ManifestImageEdit> edits, IPipelineLog log) : EditSteps
    {
        public override async Task ApplyAsync(string workTree, CancellationToken ct)
        {
            var updater = new ManifestUpdater(workTree, log: log);
            foreach (var edit in edits)
            {
                var result = await updater.UpdateFileAsync(edit.Manifest, edit.Target, edit.Image, ct).ConfigureAwait(false);
                if (!result.Changed) log.Verbose($"{edit.Manifest}: already holds {edit.Image}");
            }
        }

        public async Task<GitOpsPins> ReadAsync(string workTree, string branch, string commit, CancellationToken ct)
        {
            var updater = new ManifestUpdater(workTree);
            var pins = new List<ManifestPin>();
            foreach (var edit in edits)
            {
                var check = await updater.CheckFileAsync(edit.Manifest, edit.Target, edit.Image, ct).ConfigureAwait(false);
                pins.Add(new ManifestPin(edit, check.Pinned) { HoldsEdit = !check.Changed });
            }
            return new GitOpsPins(branch, commit, pins);
        }
    }
}

/// <summary>A push that lost a race with another writer of the same ref; the message is git's reason.</summary>
internal sealed class PushRaceException(string reason) : Exception(reason);

/// <summary>
/// Tells a lost race from a refusal in <c>git push --porcelain</c> output. Client side, git prints
/// <c>[rejected]</c> with "non-fast-forward", "fetch first" or "stale info" (a lease that no longer holds);
/// server side, a concurrent update of the same ref makes receive-pack answer <c>[remote rejected]</c> with
/// "cannot lock ref '…': is at X but expected Y" (akuity/kargo#3071). Other <c>[remote rejected]</c> reasons
/// (a pre-receive hook, branch protection) are refusals: retrying cannot help.
/// </summary>
internal static class PushRace
{
    private static readonly string[] ServerRaceReasons = ["cannot lock ref", "failed to lock", "incorrect old value", "but expected"];

    public static string? Reason(GitOutput push)
    {
        var lines = (push.StandardOutput + "\n" + push.StandardError).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (lines.FirstOrDefault(l => l.Contains("[rejected]", StringComparison.Ordinal)) is { } rejected) return Explained(rejected, "rejected");
        // receive-pack reports "[remote rejected] (failed to update ref)" and says why on a "remote: error:" line.
        if (!lines.Any(l => l.Contains("[remote rejected]", StringComparison.Ordinal))) return null;
        var why = lines.FirstOrDefault(l => ServerRaceReasons.Any(r => l.Contains(r, StringComparison.Ordinal)));
        return why is null ? null : "remote rejected: " + why[(why.IndexOf("error:", StringComparison.Ordinal) is var e and >= 0 ? e + 6 : 0)..].Trim();
    }

    private static string Explained(string line, string what)
    {
        var open = line.IndexOf('(');
        var reason = open >= 0 ? line[(open + 1)..].TrimEnd(')') : what;
        return $"{what}: {reason.Replace('\t', ' ')}";
    }
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
