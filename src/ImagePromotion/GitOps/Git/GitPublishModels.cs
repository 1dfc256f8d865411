using ImagePromotion.GitOps.Manifests;

namespace ImagePromotion.GitOps.Git;

/// <summary>Where the GitOps repository lives and where this machine keeps its clone.</summary>
/// <param name="RemoteUrl">https://, ssh, file:// URL or a local path; never with credentials inside.</param>
/// <param name="BaseBranch">The branch Argo CD / Flux watches, e.g. <c>main</c>.</param>
/// <param name="WorkDirectory">The clone; reused (fetch + hard reset) when it already exists.</param>
public sealed record GitRepositoryOptions(string RemoteUrl, string BaseBranch, string WorkDirectory)
{
    /// <summary>Optional HTTPS token, sent as a header (see <see cref="GitCredentials"/>).</summary>
    public string? Token { get; init; }
    /// <summary>The Basic-auth user name sent with <see cref="Token"/>; GitHub's <c>x-access-token</c> by default.</summary>
    public string TokenUser { get; init; } = GitCredentials.GitHubTokenUser;
    /// <summary>Longest one git command may run before it is stopped (default 5 minutes).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>One promotion's commit: the branch it goes to, its message and the person who triggered it.</summary>
public sealed record GitOpsChange(string Branch, string Message, string AuthorName, string AuthorEmail);

/// <summary>How a GitOps change reaches the remote.</summary>
public enum GitPublishMode
{
    /// <summary>Commit on <see cref="GitOpsChange.Branch"/> and push it, for a pull request to review.</summary>
    PullRequestBranch,
    /// <summary>Commit straight on the base branch and push: environments without review.</summary>
    DirectPush,
    /// <summary>Clone and edit, return <c>git diff</c>, commit and push nothing.</summary>
    DryRun,
}

/// <summary>One publish: which repository, which commit, and how it is pushed.</summary>
/// <param name="Repository">The remote, its base branch and the local clone.</param>
/// <param name="Change">Branch, message and author of the commit.</param>
public sealed record GitPublishRequest(GitRepositoryOptions Repository, GitOpsChange Change)
{
    /// <summary>Pull request branch (default), direct push to the base branch, or dry run.</summary>
    public GitPublishMode Mode { get; init; } = GitPublishMode.PullRequestBranch;
    /// <summary>
    /// Pushes tried in all when a push loses a race (the remote moved: non-fast-forward, fetch first, stale
    /// info, or the server's "cannot lock ref"); each retry re-fetches and re-applies the edit on the new head.
    /// </summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>First pause before a retry after a lost push race; it doubles, with jitter, so racing runs spread out.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>
    /// A compare-and-swap on what the base branch pins (only with <see cref="ManifestImageEdit"/> edits): what
    /// <see cref="GitPublisher.ReadPinnedAsync"/> returned when the caller decided to promote. On every attempt
    /// the base is read again; when an edited place pins something else by then (another promotion landed),
    /// the publish stops with <see cref="GitOpsSupersededException"/> instead of writing over it. Null: a moved
    /// remote is simply re-fetched and the edit re-applied.
    /// </summary>
    public GitOpsPins? ExpectedPins { get; init; }
    /// <summary>The bot that writes the commit; the author stays the person who triggered the promotion.</summary>
    public string CommitterName { get; init; } = "image-promotion";
    /// <summary>The committer's e-mail: GitHub's no-reply form, so no real address is published.</summary>
    public string CommitterEmail { get; init; } = "image-promotion@users.noreply.github.com";
}

/// <summary>What a publish did.</summary>
public enum GitPublishOutcome
{
    /// <summary>A new commit was pushed.</summary>
    Pushed,
    /// <summary>The remote branch (or the base branch) already holds exactly this change; nothing pushed.</summary>
    AlreadyUpToDate,
    /// <summary>Dry run: <see cref="GitPublishResult.Diff"/> shows what would be committed.</summary>
    DryRun,
}

/// <summary>One image to write: the manifest (relative to the repository root), where in it, and the image reference.</summary>
public sealed record ManifestImageEdit(string Manifest, ManifestTarget Target, string Image);

/// <summary>What one edited place pins: the image(s) as a consumer renders them (see <see cref="ManifestEdit.Pinned"/>).</summary>
public sealed record ManifestPin(ManifestImageEdit Edit, IReadOnlyList<string> Images)
{
    /// <summary>True when every matched place already holds <see cref="ManifestImageEdit.Image"/>.</summary>
    public bool HoldsEdit { get; init; }
}

/// <summary>What <paramref name="Branch"/> pins at <paramref name="Commit"/> for each edit, in the order of the edits.</summary>
public sealed record GitOpsPins(string Branch, string Commit, IReadOnlyList<ManifestPin> Pins)
{
    /// <summary>"deploy/app.yaml: ghcr.io/acme/app@sha256:…; …" for messages.</summary>
    public string Describe() => string.Join("; ", Pins.Select(p => $"{p.Edit.Manifest}: {string.Join(", ", p.Images)}"));
}

/// <summary>
/// The base branch no longer pins what the caller read (<see cref="GitPublishRequest.ExpectedPins"/>), or, after
/// the push, the branch does not hold the edit: another promotion got there first. Nothing more was pushed.
/// </summary>
public sealed class GitOpsSupersededException(string message, GitOpsPins? found) : PromotionException(message)
{
    /// <summary>What the branch pins now (null when the edit was a delegate that cannot say).</summary>
    public GitOpsPins? Found { get; } = found;
}

/// <param name="Branch">The branch that holds the change: the promotion branch, or the base branch in direct-push
/// mode and when the base already held the change (then there is nothing to review: see <see cref="OnBaseBranch"/>).</param>
/// <param name="CommitSha">The commit holding the change: the new commit, or the existing head when up to date.</param>
/// <param name="ChangedFiles">Paths relative to the repository root, as git saw them change.</param>
/// <param name="Attempts">Push attempts made; more than one means the remote moved and the edit was re-applied.</param>
/// <param name="Outcome">Pushed, already up to date, or dry run.</param>
/// <param name="Diff">The <c>git diff</c> of the change (unified, paths relative to the repository root); set for dry runs.</param>
public sealed record GitPublishResult(
    GitPublishOutcome Outcome,
    string Branch,
    string? CommitSha,
    IReadOnlyList<string> ChangedFiles,
    int Attempts,
    string? Diff = null)
{
    /// <summary>True when a new commit was pushed.</summary>
    public bool Pushed => Outcome == GitPublishOutcome.Pushed;
    /// <summary>True when the remote already held exactly this change.</summary>
    public bool Unchanged => Outcome == GitPublishOutcome.AlreadyUpToDate;
    /// <summary>The change is (or already was) on the base branch; no pull request is needed for it.</summary>
    public bool OnBaseBranch { get; init; }
    /// <summary>
    /// Read back from the remote after the push (or the up-to-date decision): what <see cref="Branch"/> pins at
    /// <see cref="CommitSha"/>, each edit checked to hold its image. Null for delegate edits and dry runs.
    /// </summary>
    public GitOpsPins? Verified { get; init; }
    /// <summary>True when a promotion branch left from an earlier promotion was reset onto the current base.</summary>
    public bool BranchReset { get; init; }
}
