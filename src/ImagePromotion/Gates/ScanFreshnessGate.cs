using ImagePromotion.Registry;

namespace ImagePromotion.Gates;

/// <summary>The outcome of a vulnerability scan of one image digest.</summary>
public sealed record ScanSummary(Digest Digest, bool Passed, DateTimeOffset ScannedAt, string? Scanner = null)
{
    /// <summary>Why it did not pass (the re-judged result's first reasons), for the gate table.</summary>
    public string? Why { get; init; }
}

/// <summary>
/// A scan only vouches for the exact bytes it scanned, and only while its vulnerability database was current:
/// the scan must be of this digest, must have passed and must be younger than <paramref name="maxAge"/>.
/// </summary>
public sealed class ScanFreshnessGate(TimeSpan maxAge, TimeProvider? clock = null) : IGate
{
    /// <summary>The gate's name in reports.</summary>
    public const string GateName = "scan";

    /// <summary>The registry's instance; its limit comes from each promotion's settings.</summary>
    public ScanFreshnessGate() : this(TimeSpan.Zero) { }

    /// <inheritdoc />
    public string Name => GateName;
    /// <inheritdoc />
    public string ConfigKey => "scan";
    /// <inheritdoc />
    public GateScope Scope => GateScope.Image;
    /// <inheritdoc />
    public string Reads => "scan results attached to the candidate digest (evidence)";

    /// <inheritdoc />
    public bool AppliesTo(GateContext context) => context.Judges(ConfigKey) && context.Settings.ScanMaxAge is not null;

    /// <inheritdoc />
    public async Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct)
    {
        var image = context.Image ?? throw new InvalidOperationException("the scan gate judges one image");
        var reading = await context.Evidence.ScanResultsAsync(image.Pinned, ct).ConfigureAwait(false);
        var latest = reading.Counted.MaxBy(r => r.ScannedAt);
        var summary = latest is null ? null : new ScanSummary(Digest.Parse(latest.ImageDigest), latest.Passed, latest.ScannedAt,
            string.Join("+", latest.ScannersRun.Select(r => r.Name)))
        { Why = latest.Passed ? null : string.Join("; ", latest.Reasons.Take(3)) };
        return new ScanFreshnessGate(context.Settings.ScanMaxAge!.Value, context.Clock).Evaluate(image.Candidate, summary, trusted: true).WithIgnored(reading.Ignored);
    }

    // Scanner and pipeline clocks differ a little; a scan "from the future" beyond this is not trusted.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Pass when <paramref name="scan"/> is a passing scan of <paramref name="candidate"/> younger than the limit.</summary>
    /// <param name="candidate">The digest being promoted.</param>
    /// <param name="scan">The newest scan result the caller counts; null when there is none.</param>
    /// <param name="trusted">True when the caller counted trusted evidence only (the reasons then say "trusted").</param>
    public GateResult Evaluate(Digest candidate, ScanSummary? scan, bool trusted = false)
    {
        var which = trusted ? "trusted " : "";
        if (scan is null) return GateResult.Fail(GateName, $"no {which}scan result for {candidate}; scan the image before promoting");
        var by = scan.Scanner is null ? "" : $" by {scan.Scanner}";
        if (scan.Digest != candidate)
            return GateResult.Fail(GateName, $"scan{by} is for {scan.Digest}, not {candidate}; scan the digest being promoted");
        var age = _clock.GetUtcNow() - scan.ScannedAt;
        if (age < -ClockSkew)
            return GateResult.Fail(GateName, $"scan{by} of {candidate} is dated {StagingGate.Stamp(scan.ScannedAt)}, in the future; check the scanner clock");
        if (!scan.Passed)
            return GateResult.Fail(GateName, $"{which}scan{by} of {candidate} at {StagingGate.Stamp(scan.ScannedAt)} failed" + (scan.Why is { Length: > 0 } why ? $": {why}" : ""));
        if (age > maxAge)
            return GateResult.Fail(GateName, $"scan{by} of {candidate} is {StagingGate.Span(age)} old, older than the {StagingGate.Span(maxAge)} limit; rescan");
        return GateResult.Pass(GateName, $"{which}scan{by} of {candidate} passed {StagingGate.Span(age < TimeSpan.Zero ? TimeSpan.Zero : age)} ago (limit {StagingGate.Span(maxAge)})");
    }
}
