namespace ImagePromotion.Gates;

/// <summary>No promotion while a configured freeze window is open in its own time zone.</summary>
public sealed class FreezeWindowGate : IGate
{
    /// <inheritdoc />
    public string Name => FreezeCalendar.GateName;
    /// <inheritdoc />
    public string ConfigKey => "freeze";
    /// <inheritdoc />
    public GateScope Scope => GateScope.Release;
    /// <inheritdoc />
    public string Reads => "the configuration's freeze windows and the clock";

    /// <inheritdoc />
    public bool AppliesTo(GateContext context) => context.Judges(ConfigKey) && context.Settings.FreezeWindows.Count > 0;

    /// <inheritdoc />
    public Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct) =>
        Task.FromResult(new FreezeCalendar(context.Settings.FreezeWindows, context.Clock).Evaluate(context.To));
}
