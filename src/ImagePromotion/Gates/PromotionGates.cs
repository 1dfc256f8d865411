using ImagePromotion.Registry;

namespace ImagePromotion.Gates;

/// <summary>
/// Everything the gates of one promotion judge. Optional inputs switch their gate on: a gate whose input is
/// absent is not evaluated, except approvals (required by the policy) and the scan (required once ScanMaxAge is set),
/// which fail when their facts are missing.
/// </summary>
public sealed record PromotionGateInputs
{
    public required PromotionPolicy Policy { get; init; }
    public required PromotionVariables Variables { get; init; }

    /// <summary>The digest being promoted; every digest-based gate judges exactly this one.</summary>
    public required Digest Candidate { get; init; }

    /// <summary>The environments in promotion order, e.g. dev, staging, production.</summary>
    public required IReadOnlyList<string> EnvironmentChain { get; init; }

    public ApprovalRequest? Approvals { get; init; }
    public EnvironmentLock? Lock { get; init; }
    public IReadOnlyList<FreezeWindow> FreezeWindows { get; init; } = [];
    public StagingHistory? Staging { get; init; }
    public StagingGateOptions StagingOptions { get; init; } = new();
    public ScanSummary? Scan { get; init; }
    public TimeSpan? ScanMaxAge { get; init; }
}

/// <summary>The single entry point hosts call: runs every applicable gate and returns the report.</summary>
public static class PromotionGates
{
    public static GateReport Evaluate(PromotionGateInputs inputs, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        clock ??= TimeProvider.System;
        var variables = inputs.Variables;
        var candidate = inputs.Candidate.ToString();
        if (variables.Digest is null) variables = variables with { Digest = candidate };
        else if (variables.Digest != candidate)
            throw new PromotionException($"promotion variables name digest {variables.Digest} but the candidate is {candidate}; gate one digest at a time");
        var environment = variables.Environment;
        var results = new List<GateResult>();
        results.AddRange(new PromotionPolicyEvaluator(inputs.Policy, clock).Evaluate(variables, inputs.EnvironmentChain, inputs.Approvals));
        results.Add(EnvironmentLockGate.Evaluate(environment, inputs.Lock));
        if (inputs.FreezeWindows.Count > 0) results.Add(new FreezeCalendar(inputs.FreezeWindows, clock).Evaluate(environment));
        if (inputs.Staging is not null) results.Add(new StagingGate(inputs.StagingOptions, clock).Evaluate(inputs.Candidate, inputs.Staging));
        if (inputs.ScanMaxAge is { } maxAge) results.Add(new ScanFreshnessGate(maxAge, clock).Evaluate(inputs.Candidate, inputs.Scan));
        return new GateReport(results);
    }
}
