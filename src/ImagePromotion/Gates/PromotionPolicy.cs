using ImagePromotion.Gates.Cel;

namespace ImagePromotion.Gates;

/// <summary>
/// An image promotion policy in Devtron's shape: CEL pass and fail conditions (fail wins when both match;
/// neither set means every image is eligible), an approver count from 0 to 6 and separation-of-duties flags.
/// </summary>
public sealed record PromotionPolicy
{
    /// <summary>Most approvals a policy may require (Devtron's approver count is 0 to 6).</summary>
    public const int MaxApprovals = 6;

    /// <summary>The policy's name in <c>policies:</c>, used in gate reasons and <c>apply:</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Images matching this CEL condition are eligible (Devtron passCondition).</summary>
    public string? PassCondition { get; init; }

    /// <summary>Images matching this CEL condition are not eligible, even if they match the pass condition.</summary>
    public string? FailCondition { get; init; }

    /// <summary>Approvals needed on the promotion pull request (Devtron approverCount, 0-6).</summary>
    public int RequiredApprovals { get; init; }

    /// <summary>Designated approvers (logins). Empty means any reviewer may approve.</summary>
    public IReadOnlyCollection<string> Approvers { get; init; } = [];

    /// <summary>The user who requested the promotion may approve it (Devtron allowRequestFromApprove).</summary>
    public bool AllowRequestFromApprove { get; init; }

    /// <summary>The user who triggered the image build may approve (Devtron allowImageBuilderFromApprove).</summary>
    public bool AllowImageBuilderFromApprove { get; init; }

    /// <summary>A user who approved the promotion may also deploy it (Devtron allowApproverFromDeploy).</summary>
    public bool AllowApproverFromDeploy { get; init; }

    /// <summary>The hotfix path: the image may skip intermediate environments of the promotion chain.</summary>
    public bool AllowDirectPromotion { get; init; }

    /// <summary>Checks ranges and compiles both conditions; throws a one-line PromotionException naming the field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            throw new PromotionException("promotion policy has no name; set 'name' to identify it in gate reports");
        if (RequiredApprovals is < 0 or > MaxApprovals)
            throw new PromotionException($"policy '{Name}': approverCount {RequiredApprovals} is out of range; use 0 to {MaxApprovals}");
        if (Approvers.Count > 0 && RequiredApprovals > Approvers.Count(a => !string.IsNullOrWhiteSpace(a)))
            throw new PromotionException(
                $"policy '{Name}': approverCount {RequiredApprovals} exceeds the {Approvers.Count} designated approvers; add approvers or lower approverCount");
        if (Approvers.Any(string.IsNullOrWhiteSpace))
            throw new PromotionException($"policy '{Name}': approvers contains an empty login; remove it");
        Compile(PassCondition, "passCondition");
        Compile(FailCondition, "failCondition");
    }

    internal CelExpression? Compile(string? condition, string field) =>
        string.IsNullOrWhiteSpace(condition) ? null : CelExpression.Compile(condition, $"policy '{Name}' {field}");
}
