using ImagePromotion.Gates;
using ImagePromotion.Scanning;

namespace ImagePromotion.Configuration;

/// <summary>
/// The <c>scan:</c> section: which external scanners run (null: every supported one that is installed; empty:
/// built-in checks only), severity thresholds, the allowlist and built-in rule overrides.
/// </summary>
public sealed record ScanSettings
{
    /// <summary>External scanners to run; null runs every supported scanner that is installed, empty runs the built-in checks only.</summary>
    public IReadOnlyList<ScannerCommand>? Scanners { get; init; }
    /// <summary>Severity thresholds and the allowlist that decide whether findings block promotion.</summary>
    public required ScanPolicy Policy { get; init; }
    /// <summary>Overrides of the built-in rules (secret patterns, base-image age and the like).</summary>
    public required BuiltInRuleSettings Rules { get; init; }
    /// <summary>Time one scanner may run before it is stopped and the scan fails (default 10 minutes).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// The gates of one application in one environment: the environment's own <c>gates:</c> section merged with the
/// policy that <c>apply:</c> attaches. Each sub-section switches its gate on; the policy's conditions, the promotion
/// path and the lock are judged once any gate is configured.
/// </summary>
public sealed record GateSettings
{
    /// <summary>Gate keys as the configuration spells them (the keys of a gates section, the names <c>gates.rollback</c> takes).</summary>
    public static IReadOnlyList<string> Names => GateRegistry.ConfigKeys;

    /// <summary>A passing scan result of the exact digest, younger than this, must be attached to the image.</summary>
    public TimeSpan? ScanMaxAge { get; init; }
    /// <summary>The digest must be what this environment runs (or ran within the window), for at least the soak time.</summary>
    public StagingCheck? Staging { get; init; }
    /// <summary>Conditions, approvals and separation of duties (Devtron's policy shape).</summary>
    public required PromotionPolicy Policy { get; init; }
    /// <summary>The environment lock; unlocked unless configured.</summary>
    public EnvironmentLock Lock { get; init; } = new(false);
    /// <summary>Freeze windows; none unless configured.</summary>
    public IReadOnlyList<FreezeWindow> FreezeWindows { get; init; } = [];
    /// <summary>The gates a rollback into this environment goes through (config names: lock, approvals, ...).</summary>
    public IReadOnlyList<string> RollbackGates { get; init; } = ["lock", "freeze", "approvals"];
    /// <summary>The keys the file set (scan, staging, policy, approvals, lock, freeze, rollback), so two sources can be merged without one silently overriding the other.</summary>
    public IReadOnlySet<string> Configured { get; init; } = new HashSet<string>();
    /// <summary>Where the settings come from, for messages: <c>environments.production.gates</c> or <c>policies.strict</c>.</summary>
    public string Origin { get; init; } = "";

    /// <summary>True when the policy needs approvals on the promotion pull request.</summary>
    public bool RequiresApprovals => Policy.RequiredApprovals > 0;

    /// <summary>The report names (GateResult.Gate) that a configuration gate name covers.</summary>
    public static IReadOnlyList<string> ReportNames(string configName) => GateRegistry.NamesFor(configName);

    /// <summary>
    /// These settings with <paramref name="policy"/>'s on top, for an application × environment both configure.
    /// A key set by both is an error naming both places: two sources must not silently disagree.
    /// </summary>
    public GateSettings Merge(GateSettings policy, string file)
    {
        var both = Configured.Intersect(policy.Configured).Order(StringComparer.Ordinal).ToArray();
        if (both.Length > 0)
            throw new PromotionException($"{file}: '{Origin}' and '{policy.Origin}' both configure {string.Join(", ", both)}: keep each gate in one place");
        bool From(string key) => policy.Configured.Contains(key);
        var conditions = From("policy") ? policy.Policy : Policy;
        var approvals = From("approvals") ? policy.Policy : Policy;
        return new GateSettings
        {
            ScanMaxAge = From("scan") ? policy.ScanMaxAge : ScanMaxAge,
            Staging = From("staging") ? policy.Staging : Staging,
            Policy = conditions with
            {
                Name = From("policy") || From("approvals") ? policy.Policy.Name : Policy.Name,
                RequiredApprovals = approvals.RequiredApprovals,
                Approvers = approvals.Approvers,
                AllowRequestFromApprove = approvals.AllowRequestFromApprove,
                AllowImageBuilderFromApprove = approvals.AllowImageBuilderFromApprove,
                AllowApproverFromDeploy = approvals.AllowApproverFromDeploy,
            },
            Lock = From("lock") ? policy.Lock : Lock,
            FreezeWindows = From("freeze") ? policy.FreezeWindows : FreezeWindows,
            RollbackGates = From("rollback") ? policy.RollbackGates : RollbackGates,
            Configured = Configured.Union(policy.Configured).ToHashSet(),
            Origin = $"{Origin} + {policy.Origin}",
        };
    }
}

/// <param name="Environment">The environment whose history is checked (default: the one before the target).</param>
/// <param name="Window">How long after being replaced a digest may still be promoted.</param>
/// <param name="Soak">How long the digest must have run there.</param>
public sealed record StagingCheck(string? Environment, TimeSpan Window, TimeSpan Soak);
