namespace ImagePromotion.GitOps.PullRequests;

/// <summary>The GitHub repository (github.com, GHE.com or GitHub Enterprise Server) that holds the GitOps manifests.</summary>
/// <param name="BaseUrl">Null for github.com; <c>https://api.SUBDOMAIN.ghe.com</c> for GHE.com; for GitHub Enterprise
/// Server the server (<c>https://ghe.example.com</c>, the API then at /api/v3/) or the API root with its path
/// (<c>https://ghe.example.com/api/v3</c>, kept as given, like any path prefix). See <see cref="GitHubApiBase"/>.</param>
/// <param name="Owner">The user or organisation owning the repository.</param>
/// <param name="Repository">The repository name without owner.</param>
/// <param name="Token">A token that may push branches and open pull requests (a GitHub App installation or personal access token); never printed.</param>
public sealed record GitHubRepositoryOptions(string Owner, string Repository, string Token, string? BaseUrl = null)
{
    /// <summary><c>owner/repository</c>.</summary>
    public string FullName => Owner + "/" + Repository;

    /// <summary>
    /// The longest a call waits for a rate limit to pass (GitHub's reset time, or its Retry-After) before it is
    /// retried; a limit that lasts longer fails at once, naming the time. Zero never waits.
    /// </summary>
    public TimeSpan MaxRateLimitWait { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>How an auto-merge joins the pull request into the base branch (GitHub's <c>merge_method</c>).</summary>
public enum MergeMethod
{
    /// <summary>A merge commit.</summary>
    Merge,
    /// <summary>One squashed commit.</summary>
    Squash,
    /// <summary>The commits rebased onto the base branch.</summary>
    Rebase,
}

/// <summary>A promotion pull request: branch to merge, text, and who should look at it.</summary>
/// <param name="HeadBranch">The promotion branch holding the change.</param>
/// <param name="BaseBranch">The branch to merge into (what the GitOps controller watches).</param>
/// <param name="Title">Pull request title (<see cref="PromotionDescription.Title"/>).</param>
/// <param name="Body">Pull request body, Markdown with every untrusted value escaped.</param>
public sealed record PullRequestSpec(string HeadBranch, string BaseBranch, string Title, string Body)
{
    /// <summary>Labels to set; created by GitHub when missing.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>Users asked to review.</summary>
    public IReadOnlyList<string> Reviewers { get; init; } = [];
    /// <summary>Teams asked to review, by slug.</summary>
    public IReadOnlyList<string> TeamReviewers { get; init; } = [];
    /// <summary>Users assigned.</summary>
    public IReadOnlyList<string> Assignees { get; init; } = [];
    /// <summary>Open as a draft.</summary>
    public bool Draft { get; init; }
    /// <summary>Owner of the head branch when it lives in a fork; null for the same repository.</summary>
    public string? HeadOwner { get; init; }
    /// <summary>Merge right after opening with this method; null leaves the PR for review.</summary>
    public MergeMethod? AutoMerge { get; init; }
    /// <summary>The commit we pushed; auto-merge refuses (409) if the branch moved since.</summary>
    public string? ExpectedHeadSha { get; init; }
}

/// <param name="Created">False when a re-run found the open pull request for the same head branch and updated it.</param>
/// <param name="Merge">The auto-merge outcome; null when no auto-merge was asked for.</param>
/// <param name="Warnings">Things that did not stop the promotion (e.g. a reviewer GitHub would not request).</param>
/// <param name="Number">The pull request number.</param>
/// <param name="HtmlUrl">The pull request's web page.</param>
/// <param name="HeadSha">The head commit the pull request shows.</param>
public sealed record PullRequestResult(int Number, string HtmlUrl, string HeadSha, bool Created, PullRequestMergeResult? Merge, IReadOnlyList<string> Warnings);

/// <param name="Reason">One line: GitHub's own words when it refused (checks pending, review required, conflict, head moved).</param>
/// <param name="Number">The pull request number.</param>
/// <param name="Merged">True when GitHub merged it.</param>
/// <param name="Sha">The merge commit; null when not merged.</param>
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
    /// <summary>True when the review's state is <c>APPROVED</c>.</summary>
    public bool IsApproval => State == "APPROVED";
}
