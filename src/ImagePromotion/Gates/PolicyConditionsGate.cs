namespace ImagePromotion.Gates;

/// <summary>The policy's CEL pass and fail conditions (Devtron's shape), judged for every image of the release.</summary>
public sealed class PolicyConditionsGate : IGate
{
    /// <inheritdoc />
    public string Name => PromotionPolicyEvaluator.ConditionsGate;
    /// <inheritdoc />
    public string ConfigKey => "policy";
    /// <inheritdoc />
    public GateScope Scope => GateScope.Image;
    /// <inheritdoc />
    public string Reads => "image config labels and build time (registry), the push record and scan result (evidence)";

    /// <inheritdoc />
    public bool AppliesTo(GateContext context) => context.Judges(ConfigKey);

    /// <inheritdoc />
    public async Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct)
    {
        var image = context.Image ?? throw new InvalidOperationException("the conditions gate judges one image");
        var variables = await GateVariables.ForAsync(context, image, ct).ConfigureAwait(false);
        return new PromotionPolicyEvaluator(context.Settings.Policy, context.Clock).EvaluateConditions(variables);
    }
}
