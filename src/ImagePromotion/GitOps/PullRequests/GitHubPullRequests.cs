using ImagePromotion.Logging;
using Octokit;
using Octokit.Internal;
using Polly;
using Polly.Retry;
using OctokitMergeMethod = Octokit.PullRequestMergeMethod;

namespace ImagePromotion.GitOps.PullRequests;

/// <summary>
/// Kargo's git-open-pr and git-merge-pr steps against GitHub, GitHub Enterprise Cloud (GHE.com) or GitHub
/// Enterprise Server, through Octokit. Re-runs are idempotent: the open pull request for the same head branch
/// is found and updated, never duplicated (one opened by a concurrent run between our lookup and our create
/// is adopted), and labels, reviewers and assignees already present are not requested again. Every call's
/// error answer is classified once (<see cref="GitHubAnswer"/>); rate limits are waited out through Polly when
/// GitHub's reset or retry time is within <see cref="GitHubRepositoryOptions.MaxRateLimitWait"/>, and said so.
/// </summary>
public sealed class GitHubPullRequests
{
    /// <summary>Rate-limit waits per call, at most (each within <see cref="GitHubRepositoryOptions.MaxRateLimitWait"/>).</summary>
    private const int MaxRateLimitRetries = 3;
    private readonly GitHubRepositoryOptions _options;
    private readonly IPipelineLog _log;
    private readonly GitHubClient _client;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _rateLimits;

    /// <summary>The API root calls go to (see <see cref="GitHubApiBase.Resolve"/>).</summary>
    public Uri ApiBase { get; }

    /// <summary>A client for <paramref name="options"/>'s repository, built once for the run, with rate-limit waits up to <see cref="GitHubRepositoryOptions.MaxRateLimitWait"/>.</summary>
    /// <exception cref="PromotionException">The owner, repository or token is empty, the rate-limit wait is negative, or the API base URL is not absolute http(s).</exception>
    public GitHubPullRequests(GitHubRepositoryOptions options, IPipelineLog log) : this(options, log, TimeProvider.System) { }

    internal GitHubPullRequests(GitHubRepositoryOptions options, IPipelineLog log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Owner) || string.IsNullOrWhiteSpace(options.Repository))
            throw new PromotionException($"The GitHub repository '{options.Owner}/{options.Repository}' is incomplete; give both the owner and the repository name.");
        if (string.IsNullOrWhiteSpace(options.Token))
            throw new PromotionException($"No GitHub token for {options.FullName}; pass a token with 'pull-requests: write' (e.g. GITHUB_TOKEN).");
        if (options.MaxRateLimitWait < TimeSpan.Zero)
            throw new PromotionException($"The rate-limit wait bound for {options.FullName} is {options.MaxRateLimitWait}; set it to zero (never wait) or more.");
        SecretRedactor.Shared.Add(options.Token);
        ApiBase = GitHubApiBase.Resolve(options.BaseUrl);
        // A Connection takes its base address as given; GitHubClient(header, uri) would rewrite any host but
        // github.com to <host>/api/v3/, dropping a path prefix and breaking GHE.com (integrations/terraform-provider-github#2546).
        _client = new GitHubClient(new Connection(new ProductHeaderValue("image-promotion"), ApiBase, new InMemoryCredentialStore(new Credentials(options.Token))));
        _options = options;
        _log = log;
        _time = time;
        _rateLimits = new ResiliencePipelineBuilder { TimeProvider = time }.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is ApiException e && WaitFor(e) is not null),
            MaxRetryAttempts = MaxRateLimitRetries,
            DelayGenerator = args => ValueTask.FromResult(WaitFor((ApiException)args.Outcome.Exception!)),
            OnRetry = args =>
            {
                var answer = GitHubAnswer.Classify((ApiException)args.Outcome.Exception!, _time.GetUtcNow());
                var which = answer.Kind == GitHubAnswerKind.RateLimit ? "API rate limit (resets" : "secondary rate limit (retry";
                _log.Warning($"GitHub {which} at {GitHubAnswer.When(answer.RetryAt, _time.GetUtcNow())}) on {_options.FullName}: waiting {GitHubAnswer.Seconds(args.RetryDelay)}, within the {GitHubAnswer.Seconds(_options.MaxRateLimitWait)} this run waits for a rate limit (attempt {args.AttemptNumber + 2} of {MaxRateLimitRetries + 1}).");
                return default;
            },
        }).Build();
    }

    /// <summary>How long to wait before retrying a rate-limited call, or null when it is no rate limit or beyond the bound.</summary>
    private TimeSpan? WaitFor(ApiException e)
    {
        var answer = GitHubAnswer.Classify(e, _time.GetUtcNow());
        if (!answer.IsRateLimit || answer.RetryAt is not { } at) return null;
        // A second of margin: x-ratelimit-reset has a one-second resolution.
        var wait = at - _time.GetUtcNow() + TimeSpan.FromSeconds(1);
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        return wait <= _options.MaxRateLimitWait ? wait : null;
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
        var (pr, created) = existing.Count == 0 ? await CreateOrAdoptAsync(spec, head, ct).ConfigureAwait(false) : (existing.OrderBy(p => p.Number).First(), false);
        if (!created)
        {
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

    /// <summary>Creates the pull request; one opened by a concurrent run in the meantime (422 already exists) is adopted.</summary>
    private async Task<(PullRequest Pr, bool Created)> CreateOrAdoptAsync(PullRequestSpec spec, string head, CancellationToken ct)
    {
        var (owner, name) = (_options.Owner, _options.Repository);
        var request = new NewPullRequest(spec.Title, spec.HeadOwner == null ? spec.HeadBranch : head, spec.BaseBranch) { Body = spec.Body, Draft = spec.Draft };
        try
        {
            var pr = await Call("create pull request", () => _client.PullRequest.Create(owner, name, request), ct, rethrowApi: true).ConfigureAwait(false);
            _log.Information($"Opened pull request #{pr.Number} {pr.HtmlUrl}");
            return (pr, true);
        }
        catch (ApiException e) when (GitHubAnswer.Classify(e, _time.GetUtcNow()).Kind == GitHubAnswerKind.AlreadyExists)
        {
            // A concurrent run of the same promotion opened it between our lookup and our create (akuity/kargo#2845).
            var again = await Call("list pull requests", () => _client.PullRequest.GetAllForRepository(owner, name,
                new PullRequestRequest { Head = head, Base = spec.BaseBranch, State = ItemStateFilter.Open }), ct).ConfigureAwait(false);
            var adopted = again.OrderBy(p => p.Number).FirstOrDefault()
                ?? throw Failure(e, "create pull request", $"; yet no open pull request for {head} into {spec.BaseBranch} shows up (is one open into another base?)");
            _log.Information($"A pull request for {head} already exists (opened meanwhile by another run): adopting #{adopted.Number} {adopted.HtmlUrl}");
            return (adopted, false);
        }
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
            catch (ApiException e) when (GitHubAnswer.Classify(e, _time.GetUtcNow()).Kind is GitHubAnswerKind.Validation or GitHubAnswerKind.AlreadyExists)
            {
                // Asking the PR's own author, or someone without access, must not fail a promotion already pushed.
                var warning = $"GitHub would not request reviewers {string.Join(", ", reviewers.Concat(teams))} on #{pr.Number}: {GitHubAnswer.Describe(e)}";
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
        catch (ApiException e) when (GitHubAnswer.Classify(e, _time.GetUtcNow()) is { Kind: GitHubAnswerKind.NotAllowed or GitHubAnswerKind.Conflict } answer)
        {
            return answer.Kind == GitHubAnswerKind.NotAllowed
                ? Refused(number, $"405 {answer.Message} (checks pending, review required or conflict)")
                : Refused(number, $"409 {answer.Message} (the branch moved after {expectedHeadSha}; re-run the promotion)");
        }
        catch (ApiException e)
        {
            throw Failure(e, "merge pull request");
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

    // Octokit takes no CancellationToken; WaitAsync at least stops us waiting on it. Rate limits are waited
    // out (within the bound) before anything else sees the error.
    private async Task<T> Call<T>(string operation, Func<Task<T>> call, CancellationToken ct, bool rethrowApi = false)
    {
        ct.ThrowIfCancellationRequested();
        try
        {
            return await _rateLimits.ExecuteAsync(async token => await call().WaitAsync(token).ConfigureAwait(false), ct).ConfigureAwait(false);
        }
        catch (ApiException e) when (rethrowApi && !GitHubAnswer.Classify(e, _time.GetUtcNow()).IsRateLimit)
        {
            throw;
        }
        catch (ApiException e)
        {
            throw Failure(e, operation);
        }
        catch (HttpRequestException e)
        {
            throw new PromotionException($"GitHub {operation} on {_options.FullName} failed: cannot reach {ApiBase} ({SecretRedactor.Shared.Redact(e.Message)}); check the GitHub base URL and the network.", e);
        }
    }

    private PromotionException Failure(ApiException e, string operation, string more = "")
    {
        var failure = GitHubAnswer.Classify(e, _time.GetUtcNow()).ToException(operation, _options, ApiBase, _time.GetUtcNow(), _options.MaxRateLimitWait, e);
        return more.Length == 0 ? failure : new PromotionException(failure.Message.TrimEnd('.') + more, e);
    }
}

/// <summary>
/// Where the REST API of a GitHub lives, from the <c>baseUrl</c> a user configures: github.com (none,
/// <c>https://github.com</c> or <c>https://api.github.com</c>) → <c>https://api.github.com/</c>; GitHub Enterprise
/// Cloud with data residency → <c>https://api.SUBDOMAIN.ghe.com/</c> as given (the web address
/// <c>https://SUBDOMAIN.ghe.com</c> is turned into it); GitHub Enterprise Server given as the bare server
/// (<c>https://HOST</c>) → <c>https://HOST/api/v3/</c>; any URL with a path (<c>https://HOST/api/v3</c>, a proxy's
/// <c>https://HOST/github/api/v3</c>) → used as given.
/// </summary>
public static class GitHubApiBase
{
    /// <summary>The github.com REST API root.</summary>
    public static readonly Uri GitHubDotCom = new("https://api.github.com/");

    /// <exception cref="PromotionException">Not an absolute http(s) URL.</exception>
    public static Uri Resolve(string? baseUrl)
    {
        if (string.IsNullOrWhiteSpace(baseUrl)) return GitHubDotCom;
        if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.UserInfo))
            throw new PromotionException($"The GitHub base URL '{SecretRedactor.Shared.Redact(baseUrl)}' is not an absolute http(s) URL without credentials; use e.g. https://github.example.com for GitHub Enterprise Server or https://api.acme.ghe.com for GHE.com.");
        var host = uri.Host.ToLowerInvariant();
        if (host is "github.com" or "www.github.com" or "api.github.com") return GitHubDotCom;
        var path = uri.AbsolutePath.TrimEnd('/');
        if (host.EndsWith(".ghe.com", StringComparison.Ordinal))
        {
            var api = host.StartsWith("api.", StringComparison.Ordinal) ? uri : new UriBuilder(uri) { Host = "api." + host }.Uri;
            return WithSlash(api);
        }
        return path.Length == 0 ? new Uri(WithSlash(uri), "api/v3/") : WithSlash(uri);
    }

    private static Uri WithSlash(Uri uri) =>
        uri.AbsolutePath.EndsWith('/') ? new UriBuilder(uri) { Query = "", Fragment = "" }.Uri
            : new UriBuilder(uri) { Path = uri.AbsolutePath + "/", Query = "", Fragment = "" }.Uri;
}
