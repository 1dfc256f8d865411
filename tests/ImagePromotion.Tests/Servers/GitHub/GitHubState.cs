namespace ImagePromotion.Tests.Servers.GitHub;

/// <summary>A repository the fake GitHub knows, optionally backed by a bare git repository for real shas and merges.</summary>
public sealed class GitHubRepositoryState(string owner, string name, long id, string? barePath)
{
    public string Owner { get; } = owner;
    public string Name { get; } = name;
    public long Id { get; } = id;
    public string? BarePath { get; } = barePath;
    public string DefaultBranch { get; init; } = "main";
    public string FullName => Owner + "/" + Name;
    internal List<GitHubPullState> Pulls { get; } = new();
}

/// <summary>Why the next merge attempts are refused, mirroring what branch protection makes GitHub answer.</summary>
public enum MergeRefusal
{
    None,
    /// <summary>405: a required status check has not reported success yet.</summary>
    ChecksPending,
    /// <summary>405: branch protection wants an approving review.</summary>
    ReviewsMissing,
    /// <summary>405: the head cannot be merged cleanly into the base.</summary>
    Conflict,
}

public sealed record GitHubReviewState(long Id, string Login, long UserId, string State, string CommitId, string Body, DateTimeOffset SubmittedAt);

public sealed class GitHubPullState
{
    public required long Id { get; init; }
    public required int Number { get; init; }
    public required string Title { get; set; }
    public string? Body { get; set; }
    public required string HeadRef { get; init; }
    public required string HeadOwner { get; init; }
    public required string HeadSha { get; set; }
    public required string BaseRef { get; set; }
    public required string BaseSha { get; set; }
    public required string Author { get; init; }
    public bool Draft { get; init; }
    public string State { get; set; } = "open";
    public bool Merged { get; set; }
    public string? MergeCommitSha { get; set; }
    public string? MergedBy { get; set; }
    public string? MergeMethod { get; set; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? ClosedAt { get; set; }
    public List<string> Labels { get; } = new();
    public List<string> RequestedReviewers { get; } = new();
    public List<string> Assignees { get; } = new();
    public List<GitHubReviewState> Reviews { get; } = new();
    public MergeRefusal Refusal { get; set; }
}
