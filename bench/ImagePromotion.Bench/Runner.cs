namespace ImagePromotion.Bench;

/// <summary>
/// Runs the scenarios: per network mode, runs alternate between the tools (and which goes first), so a
/// change of load on this shared machine hits both alike. Requests and uploaded blob bytes come from
/// the registries' access logs; an upload counts the size of the digest it commits.
/// </summary>
public sealed class Runner(BenchContext ctx, Action<string> say)
{
    public async Task<ScenarioFigures> RunAsync(Scenario scenario, List<RunResult> all, CancellationToken ct)
    {
        say($"{scenario.Id} {scenario.Title}: setting up");
        await scenario.Setup(ctx, ct);
        var figures = new ScenarioFigures();
        foreach (var mode in scenario.Modes)
        {
            if (scenario.Warmup is { } warmup)
                foreach (var command in warmup(ctx, mode))
                {
                    var w = await TimedProcess.RunAsync(command, ct);
                    if (w.ExitCode != 0) say($"  warm-up failed ({w.ExitCode}): {Tail(w.Output)}");
                }
            var runs = new List<RunResult>();
            for (var i = 0; i < scenario.Runs; i++)
            {
                Side[] order = i % 2 == 0 ? [Side.Ours, Side.Skopeo] : [Side.Skopeo, Side.Ours];
                foreach (var side in order)
                {
                    if (side == Side.Skopeo && !scenario.SkopeoApplies) continue;
                    var run = await RunOnceAsync(scenario, mode, side, i, ct);
                    say($"  {mode.Name,-8} {side,-6} #{i + 1}: {run.Seconds,7:0.000} s  {run.PeakRssKiB / 1024,5} MiB  requests A {run.RequestsA} B {run.RequestsB}  blob bytes up {run.BlobBytesUploaded}{(run.Note is null ? "" : "  " + run.Note)}{(run.Error is null ? "" : "  FAILED: " + run.Error)}");
                    runs.Add(run);
                }
            }
            all.AddRange(runs);
            figures.Ours[mode.Name] = SideSummary.Of(runs.Where(r => r.Side == Side.Ours).ToList());
            if (scenario.SkopeoApplies) figures.Skopeo[mode.Name] = SideSummary.Of(runs.Where(r => r.Side == Side.Skopeo).ToList());
        }
        return figures;
    }

    private async Task<RunResult> RunOnceAsync(Scenario scenario, Mode mode, Side side, int i, CancellationToken ct)
    {
        if (scenario.BeforeRun is { } before) await before(ctx, mode, side, i);
        await ctx.A.ResetAsync(ct);
        await ctx.B.ResetAsync(ct);
        double seconds = 0;
        long rss = 0;
        string? error = null, note = null;
        var timings = new List<ProcessTiming>();
        foreach (var command in scenario.Commands(ctx, mode, side, i))
        {
            var t = await TimedProcess.RunAsync(command, ct);
            timings.Add(t);
            seconds += t.Seconds;
            rss = Math.Max(rss, t.MaxRssKiB);
            if (t.ExitCode != 0) error ??= $"exit {t.ExitCode}: {Tail(t.Output)}";
            if (scenario.Note?.Invoke(t.Output) is { } n) note = n;
        }
        if (scenario.AfterRun?.Invoke(ctx, mode, side, i, timings) is { } remark) note = remark;
        var logA = await ctx.A.TakeAsync(ct);
        var logB = await ctx.B.TakeAsync(ct);
        var pings = logA.Concat(logB).Count(r => r.Method == "GET" && r.Path is "/v2/" or "/v2");
        var bytes = logA.Concat(logB).Sum(UploadedBytes);
        return new RunResult(side, mode.Name, i + 1, Math.Round(seconds, 4), rss, logA.Count, logB.Count, pings, bytes, note, error);
    }

    private long UploadedBytes(LoggedRequest r)
    {
        if (r.Method != "PUT" || r.Status != 201 || !r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal)) return 0;
        var q = r.Path.IndexOf('?');
        if (q < 0) return 0;
        foreach (var part in r.Path[(q + 1)..].Split('&'))
            if (part.StartsWith("digest=", StringComparison.Ordinal))
                return ctx.Images.Sizes.TryGetValue(Uri.UnescapeDataString(part["digest=".Length..]), out var size) ? size : 0;
        return 0;
    }

    private static string Tail(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" | ", lines.TakeLast(3));
    }
}
