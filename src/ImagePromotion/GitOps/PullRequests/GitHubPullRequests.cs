using System.Net;
using ImagePromotion.Logging;
using Octokit;
using OctokitMergeMethod = Octokit.PullRequestMergeMethod;

namespace ImagePromotion.GitOps.PullRequests;

/// <summary>
/// Kargo's git-open-pr and git-merge-pr steps against GitHub or GitHub Enterprise Server, through Octokit.
/// Re-runs are idempotent: the open pull request for the same head branch is found and updated, never
/// duplicated, and labels, reviewers and assignees already present are not requested again.
/// </summary>
public sealed class GitHubPullRequests
{
    private readonly GitHubRepositoryOptions _options;
    private readonly IPipelineLog _log;
    private readonly GitHubClient _client;

    public GitHubPullRequests(GitHubRepositoryOptions options, IPipelineLog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Owner) || string.IsNullOrWhiteSpace(options.Repository))
            throw new PromotionException($"The GitHub repository '{options.Owner}/{options.Repository}' is incomplete; give both the owner and the repository name.");
        if (string.IsNullOrWhiteSpace(options.Token))
            throw new PromotionException($"No GitHub token for {options.FullName}; pass a token with 'pull-requests: write' (e.g. GITHUB_TOKEN).");
        SecretRedactor.Shared.Add(options.Token);
        var header = new ProductHeaderValue("image-promotion");
        Uri? baseUri = null;
        if (options.BaseUrl != null && !Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out baseUri))
            throw new PromotionException($"The GitHub base URL '{options.BaseUrl}' is not an absolute URL; use e.g. https://github.example.com for GitHub Enterprise Server.");
        // Octokit maps any host other than github.com to <host>/api/v3/, which is where GHES serves its API.
        _client = baseUri == null ? new GitHubClient(header) : new GitHubClient(header, baseUri);
        _client.Credentials = new Credentials(options.Token);
        _options = options;
        _log = log;
    }

    /// <summary>Opens the pull request, or updates the one already open for the same head branch; then labels, reviewers, assignees and optional auto-merge.</summary>
    public async Task<PullRequestResult> OpenOrUpdateAsync(PullRequestSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec.Title))
            throw new PromotionException($"The pull request title for branch '{spec.HeadBranch}' is empty; describe the promotion.");
        if (string.IsNullOrWhiteSpace(spec.HeadBranch) || string.IsNullOrWhiteSpace(spec.BaseBranch) || spec.HeadBranch == spec.BaseBranch)
            throw new PromotionException($"The pull request needs distinct head and base branches (got '{spec.HeadBranch}' into '{spec.BaseBranch}'); push the change to a promotion branch first.");
        var owner = _options.Owner;
        var name = _options.Repository;
        var head = (spec.HeadOwner ?? owner) + ":" + spec.HeadBranch;

        var existing = await Call("list pull requests", () => _client.PullRequest.GetAllForRepository(owner, name,
            new PullRequestRequest { Head = head, Base = spec.BaseBranch, State = ItemStateFilter.Open }), ct).ConfigureAwait(false);
        PullRequest pr;
        var created = existing.Count == 0;
        if (created)
        {
            var request = new NewPullRequest(spec.Title, spec.HeadOwner == null ? spec.HeadBranch : head, spec.BaseBranch) { Body = spec.Body, Draft = spec.Draft };
            pr = await Call("create pull request", () => _client.PullRequest.Create(owner, name, request), ct).ConfigureAwait(false);
            _log.Information($"Opened pull request #{pr.Number} {pr.HtmlUrl}");
        }
        else
        {
            pr = existing.OrderBy(p => p.Number).First();
            if (pr.Title != spec.Title || (pr.Body ?? "") != spec.Body)
            {
                var number = pr.Number;
                pr = await Call("update pull request", () => _client.PullRequest.Update(owner, name, number, new PullRequestUpdate { Title = spec.Title, Body = spec.Body }), ct).ConfigureAwait(false);
            }
            _log.Information($"Reusing open pull request #{pr.Number} {pr.HtmlUrl} for {head}");
        }

        var warnings = new List<string>();
        await ApplyParticipantsAsync(pr, spec, warnings, ct).ConfigureAwait(false);

        PullRequestMergeResult? merge = null;
        if (spec.AutoMerge is { } method)
            merge = await MergeAsync(pr.Number, method, spec.ExpectedHeadSha ?? pr.Head.Sha, spec.Title, ct).ConfigureAwait(false);
        return new PullRequestResult(pr.Number, pr.HtmlUrl, pr.Head.Sha, created, merge, warnings);
    }

    private async Task ApplyParticipantsAsync(PullRequest pr, PullRequestSpec spec, List<string> warnings, CancellationToken ct)
    {
        var owner = _options.Owner;
        var name = _options.Repository;
        var labels = spec.Labels.Except(pr.Labels?.Select(l => l.Name) ?? [], StringComparer.Ordinal).ToArray();
        if (labels.Length > 0)
            await Call("add labels", () => _client.Issue.Labels.AddToIssue(owner, name, pr.Number, labels), ct).ConfigureAwait(false);

        var requested = pr.RequestedReviewers?.Select(u => u.Login) ?? [];
        var reviewers = spec.Reviewers.Except(requested, StringComparer.OrdinalIgnoreCase).ToArray();
        var teams = spec.TeamReviewers.Except(pr.RequestedTeams?.Select(t => t.Slug) ?? [], StringComparer.OrdinalIgnoreCase).ToArray();
        if (reviewers.Length > 0 || teams.Length > 0)
        {
            try
            {
                await Call("request reviewers", () => _client.PullRequest.ReviewRequest.Create(owner, name, pr.Number, new PullRequestReviewRequest(reviewers, teams)), ct, rethrowApi: true).ConfigureAwait(false);
            }
            catch (ApiException e) when (e.StatusCode == HttpStatusCode.UnprocessableEntity)
            {
                // Asking the PR's own author, or someone without access, must not fail a promotion already pushed.
                var warning = $"GitHub would not request reviewers {string.Join(", ", reviewers.Concat(teams))} on #{pr.Number}: {GitHubApiErrors.Describe(e)}";
                warnings.Add(warning);
                _log.Warning(warning);
            }
        }

        var assignees = spec.Assignees.Except(pr.Assignees?.Select(u => u.Login) ?? [], StringComparer.OrdinalIgnoreCase).ToArray();
        if (assignees.Length > 0)
            await Call("add assignees", () => _client.Issue.Assignee.AddAssignees(owner, name, pr.Number, new AssigneesUpdate(assignees)), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Merges through the merge endpoint. When GitHub refuses (405: checks pending, review missing, conflict;
    /// 409: head moved) the result carries Merged=false and GitHub's reason; <see cref="PullRequestMergeResult.ThrowIfNotMerged"/>
    /// turns that into an error for callers that want one.
    /// </summary>
    public async Task<PullRequestMergeResult> MergeAsync(int number, MergeMethod method, string? expectedHeadSha, string? commitTitle, CancellationToken ct)
    {
        var request = new MergePullRequest
        {
            MergeMethod = method switch { MergeMethod.Squash => OctokitMergeMethod.Squash, MergeMethod.Rebase => OctokitMergeMethod.Rebase, _ => OctokitMergeMethod.Merge },
            Sha = expectedHeadSha,
            CommitTitle = commitTitle == null ? null : $"{commitTitle} (#{number})",
        };
        try
        {
            var merged = await Call("merge pull request", () => _client.PullRequest.Merge(_options.Owner, _options.Repository, number, request), ct, rethrowApi: true).ConfigureAwait(false);
            if (!merged.Merged)
                return Refused(number, merged.Message ?? "GitHub answered merged=false");
            _log.Information($"Merged pull request #{number} ({method.ToString().ToLowerInvariant()}) as {merged.Sha}");
            return new PullRequestMergeResult(number, true, merged.Sha, merged.Message ?? "merged");
        }
        catch (ApiException e) when (e.StatusCode == HttpStatusCode.MethodNotAllowed)
        {
            return Refused(number, $"405 {GitHubApiErrors.Describe(e)} (checks pending, review required or conflict)");
        }
        catch (ApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            return Refused(number, $"409 {GitHubApiErrors.Describe(e)} (the branch moved after {expectedHeadSha}; re-run the promotion)");
        }
        catch (ApiException e)
        {
            throw GitHubApiErrors.ToPromotionException(e, "merge pull request", _options);
        }
    }

    private PullRequestMergeResult Refused(int number, string reason)
    {
        _log.Warning($"Pull request #{number} was not merged: {reason}");
        return new PullRequestMergeResult(number, false, null, reason);
    }

    /// <summary>The reviews submitted on a pull request, oldest first, for the approvals gate.</summary>
    public async Task<IReadOnlyList<PullRequestReview>> GetReviewsAsync(int number, CancellationToken ct)
    {
        var reviews = await Call("list reviews", () => _client.PullRequest.Review.GetAll(_options.Owner, _options.Repository, number), ct).ConfigureAwait(false);
        return reviews.Select(r => new PullRequestReview(
            r.User?.Login ?? "", r.State.StringValue, r.CommitId, r.SubmittedAt == default ? null : r.SubmittedAt)).ToArray();
    }

    // Octokit takes no CancellationToken; WaitAsync at least stops us waiting on it.
    private async Task<T> Call<T>(string operation, Func<Task<T>> call, CancellationToken ct, bool rethrowApi = false)
    {
        ct.ThrowIfCancellationRequested();
        try
        {
            return await call().WaitAsync(ct).ConfigureAwait(false);
        }
        catch (ApiException) when (rethrowApi)
        {
            throw;
        }
        catch (Exception e) when (e is ApiException or HttpRequestException)
        {
            throw GitHubApiErrors.ToPromotionException(e, operation, _options);
        }
    }
}
