namespace ImagePromotion.Gates;

/// <summary>An environment lock as Port models it (<c>locked_in_prod</c> with <c>locked_reason_prod</c>).</summary>
public sealed record EnvironmentLock(bool Locked, string? Reason = null);

public static class EnvironmentLockGate
{
    public const string GateName = "environment-lock";

    public static GateResult Evaluate(string environment, EnvironmentLock? environmentLock)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(environment);
        if (environmentLock is not { Locked: true })
            return GateResult.Pass(GateName, $"{environment} is not locked");
        var reason = string.IsNullOrWhiteSpace(environmentLock.Reason) ? "no reason given" : environmentLock.Reason.Trim();
        return GateResult.Fail(GateName, $"{environment} is locked: {reason}");
    }
}
