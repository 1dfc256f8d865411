using ImagePromotion.Registry;

namespace ImagePromotion.Gates;

/// <summary>The outcome of a vulnerability scan of one image digest.</summary>
public sealed record ScanSummary(Digest Digest, bool Passed, DateTimeOffset ScannedAt, string? Scanner = null);

/// <summary>
/// A scan only vouches for the exact bytes it scanned, and only while its vulnerability database was current:
/// the scan must be of this digest, must have passed and must be younger than <paramref name="maxAge"/>.
/// </summary>
public sealed class ScanFreshnessGate(TimeSpan maxAge, TimeProvider? clock = null)
{
    public const string GateName = "scan";

    // Scanner and pipeline clocks differ a little; a scan "from the future" beyond this is not trusted.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public GateResult Evaluate(Digest candidate, ScanSummary? scan)
    {
        if (scan is null) return GateResult.Fail(GateName, $"no scan result for {candidate}; scan the image before promoting");
        var by = scan.Scanner is null ? "" : $" by {scan.Scanner}";
        if (scan.Digest != candidate)
            return GateResult.Fail(GateName, $"scan{by} is for {scan.Digest}, not {candidate}; scan the digest being promoted");
        var age = _clock.GetUtcNow() - scan.ScannedAt;
        if (age < -ClockSkew)
            return GateResult.Fail(GateName, $"scan{by} of {candidate} is dated {StagingGate.Stamp(scan.ScannedAt)}, in the future; check the scanner clock");
        if (!scan.Passed)
            return GateResult.Fail(GateName, $"scan{by} of {candidate} at {StagingGate.Stamp(scan.ScannedAt)} failed");
        if (age > maxAge)
            return GateResult.Fail(GateName, $"scan{by} of {candidate} is {StagingGate.Span(age)} old, older than the {StagingGate.Span(maxAge)} limit; rescan");
        return GateResult.Pass(GateName, $"scan{by} of {candidate} passed {StagingGate.Span(age < TimeSpan.Zero ? TimeSpan.Zero : age)} ago (limit {StagingGate.Span(maxAge)})");
    }
}
