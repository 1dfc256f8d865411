using ImagePromotion.Gates.Cel;

namespace ImagePromotion.Gates;

/// <summary>
/// Applies one <see cref="PromotionPolicy"/> to a promotion: its CEL conditions, the promotion path
/// (direct promotion only where allowed) and, when a pull request is given, its approvals.
/// A condition that fails to evaluate is a failed gate with the error as the reason, never a pass.
/// </summary>
public sealed class PromotionPolicyEvaluator
{
    /// <summary>The gate name of the pass/fail conditions in results and records.</summary>
    public const string ConditionsGate = "conditions";
    /// <summary>The gate name of the promotion-path check in results and records.</summary>
    public const string PathGate = "promotion-path";

    private readonly CelExpression? _pass;
    private readonly CelExpression? _fail;
    private readonly TimeProvider _clock;

    /// <summary>Validates the policy and compiles its conditions once; throws PromotionException if invalid.</summary>
    /// <param name="clock">Source of the CEL <c>now</c> variable and of image age derived from build time.</param>
    /// <param name="policy">The policy to apply; validated here.</param>
    public PromotionPolicyEvaluator(PromotionPolicy policy, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        Policy = policy;
        _pass = policy.Compile(policy.PassCondition, "passCondition");
        _fail = policy.Compile(policy.FailCondition, "failCondition");
    }

    /// <summary>The policy applied, as validated.</summary>
    public PromotionPolicy Policy { get; }

    /// <summary>All gates this policy owns, in a stable order: conditions, promotion path, approvals (if given).</summary>
    public IReadOnlyList<GateResult> Evaluate(PromotionVariables variables, IReadOnlyList<string> environmentChain, ApprovalRequest? approvals = null)
    {
        var results = new List<GateResult> { EvaluateConditions(variables), EvaluatePath(variables, environmentChain) };
        if (approvals is not null) results.Add(ApprovalGate.Evaluate(Policy, approvals));
        else if (Policy.RequiredApprovals > 0)
            results.Add(GateResult.Fail(ApprovalGate.GateName,
                $"policy '{Policy.Name}' requires {Policy.RequiredApprovals} approval(s) but no promotion pull request reviews were provided"));
        return results;
    }

    /// <summary>Judges the pass and fail conditions: fail wins when both match, neither set passes every image, and a condition that errors (an unknown variable, a type mismatch) fails with the error as the reason.</summary>
    public GateResult EvaluateConditions(PromotionVariables variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var name = Policy.Name;
        if (_pass is null && _fail is null)
            return GateResult.Pass(ConditionsGate, $"policy '{name}' has no pass or fail condition: every image is eligible");

        var vars = variables.ToCelVariables(_clock.GetUtcNow());
        var failOutcome = _fail is null ? null : Judge(_fail, vars, "failCondition");
        var passOutcome = _pass is null ? null : Judge(_pass, vars, "passCondition");

        // Errors first: an unevaluable condition must block, whatever the other one says.
        if (failOutcome is { Error: { } failError }) return GateResult.Fail(ConditionsGate, $"policy '{name}': {failError}");
        if (failOutcome is { Matched: true })
            return GateResult.Fail(ConditionsGate, $"policy '{name}': image matches failCondition `{_fail!.Text}`"
                + (passOutcome is { Matched: true } ? " (fail wins over the matching passCondition)" : ""));
        if (passOutcome is { Error: { } passError }) return GateResult.Fail(ConditionsGate, $"policy '{name}': {passError}");
        if (passOutcome is { Matched: false })
            return GateResult.Fail(ConditionsGate, $"policy '{name}': image does not match passCondition `{_pass!.Text}`");
        return GateResult.Pass(ConditionsGate, _pass is not null
            ? $"policy '{name}': image matches passCondition `{_pass.Text}`" + (_fail is null ? "" : " and not failCondition")
            : $"policy '{name}': image does not match failCondition `{_fail!.Text}`");
    }

    private sealed record Outcome(bool Matched, string? Error);

    private static Outcome Judge(CelExpression condition, IReadOnlyDictionary<string, object?> vars, string field) =>
        condition.Evaluate(vars) switch
        {
            bool b => new Outcome(b, null),
            CelError e => new Outcome(false, $"{field} `{condition.Text}` could not be evaluated: {e.Message}"),
            var other => new Outcome(false, $"{field} `{condition.Text}` returned {CelTypes.NameOf(other)} {CelTypes.Format(other)}, not a bool"),
        };

    /// <summary>
    /// The promotion must move one step along the chain (build → first environment → ...), unless the policy
    /// allows direct promotion, the hotfix path that skips intermediate environments.
    /// </summary>
    public GateResult EvaluatePath(PromotionVariables variables, IReadOnlyList<string> environmentChain)
    {
        ArgumentNullException.ThrowIfNull(variables);
        ArgumentNullException.ThrowIfNull(environmentChain);
        var chain = string.Join(" → ", environmentChain);
        var target = IndexOf(environmentChain, variables.Environment);
        if (target < 0)
            return GateResult.Fail(PathGate, $"target environment '{variables.Environment}' is not in the promotion chain {chain}");
        var sourceName = variables.SourceEnvironment ?? "build";
        var source = variables.SourceEnvironment is null ? -1 : IndexOf(environmentChain, variables.SourceEnvironment);
        if (variables.SourceEnvironment is not null && source < 0)
            return GateResult.Fail(PathGate, $"source environment '{variables.SourceEnvironment}' is not in the promotion chain {chain}");
        if (target <= source)
            return GateResult.Fail(PathGate, $"{sourceName} → {variables.Environment} does not move forward along {chain}");
        if (target == source + 1)
            return GateResult.Pass(PathGate, $"{sourceName} → {variables.Environment} follows {chain}");
        var skipped = string.Join(", ", environmentChain.Skip(source + 1).Take(target - source - 1));
        return Policy.AllowDirectPromotion
            ? GateResult.Pass(PathGate, $"direct promotion {sourceName} → {variables.Environment} skips {skipped}, allowed by policy '{Policy.Name}'")
            : GateResult.Fail(PathGate, $"{sourceName} → {variables.Environment} skips {skipped}; policy '{Policy.Name}' does not allow direct promotion (set allowDirectPromotion for the hotfix path)");
    }

    private static int IndexOf(IReadOnlyList<string> chain, string name)
    {
        for (var i = 0; i < chain.Count; i++)
            if (string.Equals(chain[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}
