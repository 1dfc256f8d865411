namespace ImagePromotion.Gates;

/// <summary>
/// Every gate the pipeline knows, in the order reports list them. The one place a gate is registered: the
/// configuration's key names (<c>gates.rollback</c>), the judge and the reports all read this list.
/// </summary>
public static class GateRegistry
{
    /// <summary>The registered gates, in report order.</summary>
    public static IReadOnlyList<IGate> All { get; } =
    [
        new PolicyConditionsGate(),
        new PromotionPathGate(),
        new ApprovalGate(),
        new EnvironmentLockGate(),
        new FreezeWindowGate(),
        new StagingGate(),
        new ScanFreshnessGate(),
    ];

    /// <summary>The configuration keys of the registered gates (the keys of a <c>gates:</c> section), without repeats.</summary>
    public static IReadOnlyList<string> ConfigKeys { get; } = All.Select(g => g.ConfigKey).Distinct().ToArray();

    /// <summary>The report names of the gates a configuration key covers (<c>policy</c> covers conditions and the promotion path).</summary>
    public static IReadOnlyList<string> NamesFor(string configKey) => All.Where(g => g.ConfigKey == configKey).Select(g => g.Name).ToArray();
}
