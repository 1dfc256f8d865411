using ImagePromotion.Gates;
using ImagePromotion.Scanning;

namespace ImagePromotion.Configuration;

/// <summary>
/// The <c>scan:</c> section: which external scanners run (null: every supported one that is installed; empty:
/// built-in checks only), severity thresholds, the allowlist and built-in rule overrides.
/// </summary>
public sealed record ScanSettings
{
    public IReadOnlyList<ScannerCommand>? Scanners { get; init; }
    public required ScanPolicy Policy { get; init; }
    public required BuiltInRuleSettings Rules { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// An environment's <c>gates:</c> section. Each sub-section switches its gate on; the policy's conditions and
/// promotion path are always judged once a gates section exists.
/// </summary>
public sealed record GateSettings
{
    /// <summary>Gate names as the configuration spells them (the keys of the gates section).</summary>
    public static readonly IReadOnlyList<string> Names = ["scan", "staging", "policy", "approvals", "lock", "freeze"];

    /// <summary>A passing scan result of the exact digest, younger than this, must be attached to the image.</summary>
    public TimeSpan? ScanMaxAge { get; init; }
    /// <summary>The digest must be what this environment runs (or ran within the window), for at least the soak time.</summary>
    public StagingCheck? Staging { get; init; }
    public required PromotionPolicy Policy { get; init; }
    public EnvironmentLock Lock { get; init; } = new(false);
    public IReadOnlyList<FreezeWindow> FreezeWindows { get; init; } = [];
    /// <summary>The gates a rollback into this environment goes through (config names: lock, approvals, ...).</summary>
    public IReadOnlyList<string> RollbackGates { get; init; } = ["lock", "freeze", "approvals"];

    public bool RequiresApprovals => Policy.RequiredApprovals > 0;

    /// <summary>The report names (GateResult.Gate) that a configuration gate name covers.</summary>
    public static IReadOnlyList<string> ReportNames(string configName) => configName switch
    {
        "scan" => [ScanFreshnessGate.GateName],
        "staging" => [StagingGate.GateName],
        "policy" => [PromotionPolicyEvaluator.ConditionsGate, PromotionPolicyEvaluator.PathGate],
        "approvals" => [ApprovalGate.GateName],
        "lock" => [EnvironmentLockGate.GateName],
        "freeze" => [FreezeCalendar.GateName],
        _ => [],
    };
}

/// <param name="Environment">The environment whose history is checked (default: the one before the target).</param>
public sealed record StagingCheck(string? Environment, TimeSpan Window, TimeSpan Soak);
