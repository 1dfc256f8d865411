namespace ImagePromotion.Gates;

/// <summary>The release moves one step along the environment graph, unless the policy allows the hotfix path.</summary>
public sealed class PromotionPathGate : IGate
{
    /// <inheritdoc />
    public string Name => PromotionPolicyEvaluator.PathGate;
    /// <inheritdoc />
    public string ConfigKey => "policy";
    /// <inheritdoc />
    public GateScope Scope => GateScope.Release;
    /// <inheritdoc />
    public string Reads => "the environment graph (from:) of the configuration";

    /// <inheritdoc />
    public bool AppliesTo(GateContext context) => context.Judges(ConfigKey);

    /// <inheritdoc />
    public Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct) =>
        Task.FromResult(new PromotionPolicyEvaluator(context.Settings.Policy, context.Clock).EvaluatePath(
            new PromotionVariables { Environment = context.To, SourceEnvironment = GateVariables.SourceEnvironment(context) }, context.Chain));
}
