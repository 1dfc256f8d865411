namespace ImagePromotion.GitOps.Git;

/// <summary>Where the GitOps repository lives and where this machine keeps its clone.</summary>
/// <param name="RemoteUrl">https://, ssh, file:// URL or a local path; never with credentials inside.</param>
/// <param name="BaseBranch">The branch Argo CD / Flux watches, e.g. <c>main</c>.</param>
/// <param name="WorkDirectory">The clone; reused (fetch + hard reset) when it already exists.</param>
/// <param name="Token">Optional HTTPS token, sent as a header (see <see cref="GitCredentials"/>).</param>
public sealed record GitRepositoryOptions(string RemoteUrl, string BaseBranch, string WorkDirectory)
{
    public string? Token { get; init; }
    public string TokenUser { get; init; } = GitCredentials.GitHubTokenUser;
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>One promotion's commit: the branch it goes to, its message and the person who triggered it.</summary>
public sealed record GitOpsChange(string Branch, string Message, string AuthorName, string AuthorEmail);

public enum GitPublishMode
{
    /// <summary>Commit on <see cref="GitOpsChange.Branch"/> and push it, for a pull request to review.</summary>
    PullRequestBranch,
    /// <summary>Commit straight on the base branch and push: environments without review.</summary>
    DirectPush,
    /// <summary>Clone and edit, return <c>git diff</c>, commit and push nothing.</summary>
    DryRun,
}

public sealed record GitPublishRequest(GitRepositoryOptions Repository, GitOpsChange Change)
{
    public GitPublishMode Mode { get; init; } = GitPublishMode.PullRequestBranch;
    /// <summary>Pushes tried in all when the remote moves under us; each retry starts from the new remote head.</summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>The bot that writes the commit; the author stays the person who triggered the promotion.</summary>
    public string CommitterName { get; init; } = "image-promotion";
    public string CommitterEmail { get; init; } = "image-promotion@users.noreply.github.com";
}

public enum GitPublishOutcome
{
    /// <summary>A new commit was pushed.</summary>
    Pushed,
    /// <summary>The remote branch (or the base branch) already holds exactly this change; nothing pushed.</summary>
    AlreadyUpToDate,
    /// <summary>Dry run: <see cref="GitPublishResult.Diff"/> shows what would be committed.</summary>
    DryRun,
}

/// <param name="Branch">The branch that holds the change: the promotion branch, or the base branch in direct-push
/// mode and when the base already held the change (then there is nothing to review: see <see cref="OnBaseBranch"/>).</param>
/// <param name="CommitSha">The commit holding the change: the new commit, or the existing head when up to date.</param>
/// <param name="ChangedFiles">Paths relative to the repository root, as git saw them change.</param>
/// <param name="Attempts">Push attempts made; more than one means the remote moved and the edit was re-applied.</param>
public sealed record GitPublishResult(
    GitPublishOutcome Outcome,
    string Branch,
    string? CommitSha,
    IReadOnlyList<string> ChangedFiles,
    int Attempts,
    string? Diff = null)
{
    public bool Pushed => Outcome == GitPublishOutcome.Pushed;
    public bool Unchanged => Outcome == GitPublishOutcome.AlreadyUpToDate;
    /// <summary>The change is (or already was) on the base branch; no pull request is needed for it.</summary>
    public bool OnBaseBranch { get; init; }
}
