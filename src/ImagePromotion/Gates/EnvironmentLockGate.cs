namespace ImagePromotion.Gates;

/// <summary>An environment lock as Port models it (<c>locked_in_prod</c> with <c>locked_reason_prod</c>).</summary>
/// <param name="Locked">True: no promotion into the environment.</param>
/// <param name="Reason">Why, for the gate's reason; null or empty: "no reason given".</param>
public sealed record EnvironmentLock(bool Locked, string? Reason = null);

/// <summary>A locked environment takes no promotion; judged whenever the environment has gates (unlocked by default).</summary>
public sealed class EnvironmentLockGate : IGate
{
    /// <summary>The gate's name in reports.</summary>
    public const string GateName = "environment-lock";

    /// <inheritdoc />
    public string Name => GateName;
    /// <inheritdoc />
    public string ConfigKey => "lock";
    /// <inheritdoc />
    public GateScope Scope => GateScope.Release;
    /// <inheritdoc />
    public string Reads => "the configuration's lock";

    /// <inheritdoc />
    public bool AppliesTo(GateContext context) => context.Judges(ConfigKey);

    /// <inheritdoc />
    public Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct) => Task.FromResult(Evaluate(context.To, context.Settings.Lock));

    /// <summary>Pass unless <paramref name="environmentLock"/> is locked.</summary>
    public static GateResult Evaluate(string environment, EnvironmentLock? environmentLock)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(environment);
        if (environmentLock is not { Locked: true })
            return GateResult.Pass(GateName, $"{environment} is not locked");
        var reason = string.IsNullOrWhiteSpace(environmentLock.Reason) ? "no reason given" : environmentLock.Reason.Trim();
        return GateResult.Fail(GateName, $"{environment} is locked: {reason}");
    }
}
