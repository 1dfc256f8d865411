namespace ImagePromotion.Bench;

/// <summary>One measured run of one tool: a whole process (or, for skopeo in a release train, a sequence of them).</summary>
public sealed record RunResult(Side Side, string Mode, int Run, double Seconds, long PeakRssKiB,
    int RequestsA, int RequestsB, int Pings, long BlobBytesUploaded, string? Note, string? Error);

/// <summary>Medians of one tool's runs in one network mode (peak memory: the highest of the runs).</summary>
public sealed record SideSummary(int Runs, int Failures, double MedianSeconds, double MinSeconds, double MaxSeconds,
    int RequestsA, int RequestsB, int Pings, long BlobBytesUploaded, long PeakRssKiB, string? Note, string? Error)
{
    public int Requests => RequestsA + RequestsB;

    public static SideSummary Of(IReadOnlyList<RunResult> runs)
    {
        var ok = runs.Where(r => r.Error is null).ToList();
        var use = ok.Count > 0 ? ok : runs.ToList();
        return new SideSummary(runs.Count, runs.Count - ok.Count,
            Median(use.Select(r => r.Seconds)), use.Min(r => r.Seconds), use.Max(r => r.Seconds),
            (int)Median(use.Select(r => (double)r.RequestsA)), (int)Median(use.Select(r => (double)r.RequestsB)),
            (int)Median(use.Select(r => (double)r.Pings)), (long)Median(use.Select(r => (double)r.BlobBytesUploaded)),
            use.Max(r => r.PeakRssKiB), use.Select(r => r.Note).LastOrDefault(n => n is not null),
            runs.Select(r => r.Error).FirstOrDefault(e => e is not null));
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}

/// <summary>The verdict on a scenario's target, with the figures it rests on.</summary>
public sealed record Verdict(bool Met, string Detail);

/// <summary>Summaries of one scenario: per network mode, ours and (when it applies) skopeo.</summary>
public sealed class ScenarioFigures
{
    public Dictionary<string, SideSummary> Ours { get; } = new();
    public Dictionary<string, SideSummary> Skopeo { get; } = new();

    public double Ratio(Mode mode) =>
        Skopeo.TryGetValue(mode.Name, out var s) && Ours.TryGetValue(mode.Name, out var o) ? o.MedianSeconds / s.MedianSeconds : double.NaN;
}

/// <summary>
/// A scenario of the table: set up once, then per network mode a number of alternating runs of
/// each tool. <see cref="Commands"/> gives the processes of one run; <see cref="BeforeRun"/> resets the
/// destination so that every run does the same work.
/// </summary>
public sealed class Scenario
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required string Target { get; init; }
    public required int Runs { get; init; }
    public bool SkopeoApplies { get; init; } = true;
    public IReadOnlyList<Mode> Modes { get; init; } = [Mode.Loopback, Mode.Latency40];
    public Func<BenchContext, CancellationToken, Task> Setup { get; init; } = (_, _) => Task.CompletedTask;
    /// <summary>Unmeasured runs before the measured ones (e.g. to warm Cake's script cache).</summary>
    public Func<BenchContext, Mode, IReadOnlyList<Command>>? Warmup { get; init; }
    public Func<BenchContext, Mode, Side, int, Task>? BeforeRun { get; init; }
    public required Func<BenchContext, Mode, Side, int, IReadOnlyList<Command>> Commands { get; init; }
    /// <summary>A remark on a finished run from its processes (e.g. how its time splits between them).</summary>
    public Func<BenchContext, Mode, Side, int, IReadOnlyList<ProcessTiming>, string?>? AfterRun { get; init; }
    /// <summary>Extracts a remark from the run's output (e.g. in-process time).</summary>
    public Func<string, string?>? Note { get; init; }
    public required Func<ScenarioFigures, Verdict> Check { get; init; }
}
