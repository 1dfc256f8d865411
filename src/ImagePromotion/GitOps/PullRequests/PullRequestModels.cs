namespace ImagePromotion.GitOps.PullRequests;

/// <summary>The GitHub repository (github.com, GHE.com or GitHub Enterprise Server) that holds the GitOps manifests.</summary>
/// <param name="BaseUrl">Null for github.com; <c>https://api.SUBDOMAIN.ghe.com</c> for GHE.com; for GitHub Enterprise
/// Server the server (<c>https://ghe.example.com</c>, the API then at /api/v3/) or the API root with its path
/// (<c>https://ghe.example.com/api/v3</c>, kept as given, like any path prefix). See <see cref="GitHubApiBase"/>.</param>
public sealed record GitHubRepositoryOptions(string Owner, string Repository, string Token, string? BaseUrl = null)
{
    public string FullName => Owner + "/" + Repository;

    /// <summary>
    /// The longest a call waits for a rate limit to pass (GitHub's reset time, or its Retry-After) before it is
    /// retried; a limit that lasts longer fails at once, naming the time. Zero never waits.
    /// </summary>
    public TimeSpan MaxRateLimitWait { get; init; } = TimeSpan.FromSeconds(60);
}

public enum MergeMethod { Merge, Squash, Rebase }

/// <summary>A promotion pull request: branch to merge, text, and who should look at it.</summary>
/// <param name="HeadOwner">Owner of the head branch when it lives in a fork; null for the same repository.</param>
/// <param name="AutoMerge">Merge right after opening with this method; null leaves the PR for review.</param>
/// <param name="ExpectedHeadSha">The commit we pushed; auto-merge refuses (409) if the branch moved since.</param>
public sealed record PullRequestSpec(string HeadBranch, string BaseBranch, string Title, string Body)
{
    public IReadOnlyList<string> Labels { get; init; } = [];
    public IReadOnlyList<string> Reviewers { get; init; } = [];
    public IReadOnlyList<string> TeamReviewers { get; init; } = [];
    public IReadOnlyList<string> Assignees { get; init; } = [];
    public bool Draft { get; init; }
    public string? HeadOwner { get; init; }
    public MergeMethod? AutoMerge { get; init; }
    public string? ExpectedHeadSha { get; init; }
}

/// <param name="Created">False when a re-run found the open pull request for the same head branch and updated it.</param>
/// <param name="Merge">The auto-merge outcome; null when no auto-merge was asked for.</param>
/// <param name="Warnings">Things that did not stop the promotion (e.g. a reviewer GitHub would not request).</param>
public sealed record PullRequestResult(int Number, string HtmlUrl, string HeadSha, bool Created, PullRequestMergeResult? Merge, IReadOnlyList<string> Warnings);

/// <param name="Reason">One line: GitHub's own words when it refused (checks pending, review required, conflict, head moved).</param>
public sealed record PullRequestMergeResult(int Number, bool Merged, string? Sha, string Reason)
{
    /// <summary>For callers that treat a refused merge as a failed promotion.</summary>
    public PullRequestMergeResult ThrowIfNotMerged()
    {
        if (!Merged) throw new PromotionException($"Pull request #{Number} was not merged: {Reason}");
        return this;
    }
}

/// <summary>One review as the approvals gate needs it. State is GitHub's: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING.</summary>
public sealed record PullRequestReview(string Login, string State, string? CommitId, DateTimeOffset? SubmittedAt)
{
    public bool IsApproval => State == "APPROVED";
}
