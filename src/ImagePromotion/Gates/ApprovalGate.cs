namespace ImagePromotion.Gates;

/// <summary>Review states as GitHub's pull request review API reports them.</summary>
public enum ReviewState
{
    /// <summary><c>APPROVED</c>: counts toward the policy's approvals when on the pull request's head commit.</summary>
    Approved,
    /// <summary><c>CHANGES_REQUESTED</c>: when it is the reviewer's latest verdict, the reviewer is not counted.</summary>
    ChangesRequested,
    /// <summary><c>COMMENTED</c>: no verdict; an earlier approval by the same reviewer stands (as on GitHub).</summary>
    Commented,
    /// <summary><c>DISMISSED</c>: the approval was withdrawn; the reviewer is not counted.</summary>
    Dismissed,
}

/// <summary>One pull request review: who, what verdict, on which commit, when.</summary>
public sealed record Review(string Login, ReviewState State, string CommitId, DateTimeOffset SubmittedAt);

/// <summary>
/// The facts the approvals gate judges: the reviews of the promotion pull request, its head commit and the
/// people involved (requester opened the promotion, builder triggered the image build, deployer will deploy).
/// </summary>
public sealed record ApprovalRequest(
    IReadOnlyList<Review> Reviews,
    string HeadCommit,
    string Requester,
    string? Builder = null,
    string? Deployer = null);

/// <summary>Which reviews counted toward the approvals gate and which did not (with the reason).</summary>
/// <param name="Counted">The latest verdict of each counted reviewer: an approval of the head commit by someone allowed to approve.</param>
/// <param name="Excluded">Each reviewer whose review did not count, as "login (why)".</param>
public sealed record ApprovalCount(IReadOnlyList<Review> Counted, IReadOnlyList<string> Excluded);

/// <summary>
/// Counts distinct approvers whose latest review approves the head commit, applying the policy's designated
/// approver set and separation-of-duties rules. Logins compare case-insensitively, as GitHub's do. One rule:
/// the gate's verdict and the approvals a record lists both come from <see cref="Count"/>.
/// </summary>
public sealed class ApprovalGate : IGate
{
    /// <summary>The gate's name in reports.</summary>
    public const string GateName = "approvals";

    /// <inheritdoc />
    public string Name => GateName;
    /// <inheritdoc />
    public string ConfigKey => "approvals";
    /// <inheritdoc />
    public GateScope Scope => GateScope.Release;
    /// <inheritdoc />
    public string Reads => "reviews of the promotion pull request (GitHub API), the push record's builder (evidence)";

    /// <inheritdoc />
    public bool AppliesTo(GateContext context) => context.Judges(ConfigKey) && context.Settings.RequiresApprovals;

    /// <inheritdoc />
    public async Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct)
    {
        var policy = context.Settings.Policy;
        if (context.Reviews is not { } reviews)
            return GateResult.Wait(GateName, $"policy '{policy.Name}' needs {policy.RequiredApprovals} approval(s): the run opens (or updates) the pull request, then counts approvals on its head commit");
        var builder = reviews.Builder;
        if (builder is null && context.Images.Count > 0)
            builder = await GateVariables.BuilderAsync(context, context.Images[0], ct).ConfigureAwait(false);
        return Evaluate(policy, reviews with { Builder = builder, Deployer = reviews.Deployer ?? context.Requester });
    }

    /// <summary>The counted and excluded reviews under <paramref name="policy"/>.</summary>
    public static ApprovalCount Count(PromotionPolicy policy, ApprovalRequest request)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(request);
        var cmp = StringComparer.OrdinalIgnoreCase;
        var designated = new HashSet<string>(policy.Approvers, cmp);
        var counted = new List<Review>();
        var excluded = new List<string>();

        // COMMENTED reviews carry no verdict: GitHub keeps an earlier approval standing after a comment,
        // so only verdict-bearing reviews decide a reviewer's latest state.
        var latestByLogin = request.Reviews
            .Where(r => r.State != ReviewState.Commented && !string.IsNullOrWhiteSpace(r.Login))
            .GroupBy(r => r.Login, cmp)
            .Select(g => g.OrderBy(r => r.SubmittedAt).Last())
            .OrderBy(r => r.SubmittedAt);

        foreach (var review in latestByLogin)
        {
            var who = review.Login;
            string? why = review.State switch
            {
                ReviewState.ChangesRequested => "requested changes",
                ReviewState.Dismissed => "approval dismissed",
                _ when !string.Equals(review.CommitId, request.HeadCommit, StringComparison.OrdinalIgnoreCase)
                    => $"approved older commit {Short(review.CommitId)}",
                _ when designated.Count > 0 && !designated.Contains(who) => "not a designated approver",
                _ when !policy.AllowRequestFromApprove && cmp.Equals(who, request.Requester) => "requester may not approve",
                _ when !policy.AllowImageBuilderFromApprove && request.Builder is not null && cmp.Equals(who, request.Builder)
                    => "image builder may not approve",
                _ => null,
            };
            if (why is null) counted.Add(review);
            else excluded.Add($"{who} ({why})");
        }
        return new ApprovalCount(counted, excluded);
    }

    /// <summary>The verdict of <paramref name="request"/>'s reviews under <paramref name="policy"/>.</summary>
    public static GateResult Evaluate(PromotionPolicy policy, ApprovalRequest request)
    {
        var (reviews, excluded) = Count(policy, request);
        var counted = reviews.Select(r => r.Login).ToList();
        var cmp = StringComparer.OrdinalIgnoreCase;
        var summary = $"{counted.Count} of {policy.RequiredApprovals} required approval(s) on {Short(request.HeadCommit)}"
            + $"; counted: {List(counted)}; excluded: {List(excluded)}";

        if (!policy.AllowApproverFromDeploy && request.Deployer is not null && counted.Contains(request.Deployer, cmp))
            return GateResult.Fail(GateName,
                $"{request.Deployer} approved this promotion and may not also deploy it (policy '{policy.Name}' forbids approver deploying); {summary}");

        return counted.Count >= policy.RequiredApprovals
            ? GateResult.Pass(GateName, summary)
            : GateResult.Fail(GateName, $"policy '{policy.Name}' needs {policy.RequiredApprovals - counted.Count} more approval(s); {summary}");
    }

    private static string List(IReadOnlyList<string> items) => items.Count == 0 ? "none" : string.Join(", ", items);

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;
}
