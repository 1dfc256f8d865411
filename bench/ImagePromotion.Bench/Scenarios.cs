namespace ImagePromotion.Bench;

/// <summary>The scenarios S1–S9 of issue 6 and S10 of issue 14, with the sizes of the full run (or smaller under --quick); S8 and S10 are in <see cref="BuildScriptScenarios"/>.</summary>
public sealed class Scenarios(BenchContext ctx)
{
    private const long MiB = 1024 * 1024;
    private const int TrainSize = 20;
    private const string Commit = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";
    private readonly bool _quick = ctx.Quick;
    private IReadOnlyList<BlobFile>? _bigLayers;

    private int Runs(int full) => _quick ? Math.Min(full, 2) : full;
    private static string Tag(Mode mode, Side side, int run) => $"{(side == Side.Ours ? "o" : "s")}-{(mode.Proxied ? "lat" : "lo")}-{run}";

    public IReadOnlyList<Scenario> All()
    {
        var buildScript = new BuildScriptScenarios(ctx);
        return [S1(), S2(), S3(), S4(), S5(), S6(), S7(), buildScript.S8(), buildScript.S8Plain(), S9(), buildScript.S10()];
    }

    private async Task<IReadOnlyList<BlobFile>> BigLayersAsync(CancellationToken ct)
    {
        if (_bigLayers is not null) return _bigLayers;
        var size = (_quick ? 8 : 64) * MiB;
        var layers = new List<BlobFile>();
        for (var i = 0; i < 4; i++) layers.Add(await ctx.Images.CreateLayerAsync(size, ct));
        return _bigLayers = layers;
    }

    private async Task<IReadOnlyList<BlobFile>> SmallLayersAsync(long size, CancellationToken ct) =>
        [await ctx.Images.CreateLayerAsync(size, ct), await ctx.Images.CreateLayerAsync(size, ct)];

    private static Verdict Ratio(ScenarioFigures f, Mode mode, double limit, out string text)
    {
        var r = f.Ratio(mode);
        text = $"{mode.Name} {r:0.00}×";
        return new Verdict(r <= limit, text);
    }

    private Scenario S1() => new()
    {
        Id = "S1", Title = "retag in one repository (staging tag)", Target = "≤ 3 requests; with 40 ms latency, wall ≤ 0.5× skopeo",
        Runs = Runs(5),
        Setup = async (c, ct) => await c.Images.PushImageAsync(c.A.Host, "s1/app", "v1", await SmallLayersAsync(MiB, ct), "amd64", ct),
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours
                ? c.Ours(mode, $"{c.HostA(mode)}/s1/app:v1", $"{c.HostA(mode)}/s1/app:staging-{Tag(mode, side, i)}")
                : c.Skopeo($"{c.HostA(mode)}/s1/app:v1", $"{c.HostA(mode)}/s1/app:staging-{Tag(mode, side, i)}", c.SharedSkopeoCache),
        ],
        Check = f =>
        {
            var requests = f.Ours.Values.Max(s => s.Requests);
            var ratio = Ratio(f, Mode.Latency40, 0.5, out var text);
            return new Verdict(requests <= 3 && ratio.Met, $"{requests} requests; {text}");
        },
    };

    private Scenario S2() => new()
    {
        Id = "S2", Title = $"copy into another repository of the same registry (skopeo: fresh cache), 4 × {(_quick ? 8 : 64)} MiB",
        Target = "0 blob bytes uploaded; ≥ 10× faster than skopeo", Runs = Runs(3),
        Setup = async (c, ct) => await c.Images.PushImageAsync(c.A.Host, "s2/app", "v1", await BigLayersAsync(ct), "amd64", ct),
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours
                ? c.Ours(mode, $"{c.HostA(mode)}/s2/app:v1", $"{c.HostA(mode)}/s2/copy-{Tag(mode, side, i)}:v1")
                : c.Skopeo($"{c.HostA(mode)}/s2/app:v1", $"{c.HostA(mode)}/s2/copy-{Tag(mode, side, i)}:v1", c.FreshSkopeoCache()),
        ],
        Check = f =>
        {
            var bytes = f.Ours.Values.Max(s => s.BlobBytesUploaded);
            var speedups = f.Skopeo.Keys.Select(m => (m, x: f.Skopeo[m].MedianSeconds / f.Ours[m].MedianSeconds)).ToList();
            return new Verdict(bytes == 0 && speedups.All(s => s.x >= 10),
                $"{bytes} bytes; skopeo/ours {string.Join(", ", speedups.Select(s => $"{s.m} {s.x:0.0}×"))}");
        },
    };

    private Scenario S3() => new()
    {
        Id = "S3", Title = $"copy across registries, 4 × {(_quick ? 8 : 64)} MiB", Target = "wall ≤ 1.0× skopeo on loopback, ≤ 0.8× with latency",
        Runs = Runs(3),
        Setup = async (c, ct) => await c.Images.PushImageAsync(c.A.Host, "s3/app", "v1", await BigLayersAsync(ct), "amd64", ct),
        BeforeRun = (c, _, _, _) => { c.B.Wipe(); return Task.CompletedTask; },
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours
                ? c.Ours(mode, $"{c.HostA(mode)}/s3/app:v1", $"{c.HostB(mode)}/s3/app:v1")
                : c.Skopeo($"{c.HostA(mode)}/s3/app:v1", $"{c.HostB(mode)}/s3/app:v1", c.SharedSkopeoCache),
        ],
        Check = f =>
        {
            var lo = Ratio(f, Mode.Loopback, 1.0, out var a);
            var lat = Ratio(f, Mode.Latency40, 0.8, out var b);
            return new Verdict(lo.Met && lat.Met, $"{a}; {b}");
        },
    };

    private Scenario S4() => new()
    {
        Id = "S4", Title = $"multi-arch index of 3 platforms across registries (2 × {(_quick ? 2 : 16)} MiB each)",
        Target = "all platforms in parallel; wall ≤ 0.7× skopeo --all", Runs = Runs(3),
        Setup = async (c, ct) =>
        {
            var size = (_quick ? 2 : 16) * MiB;
            var platforms = new List<(string, IReadOnlyList<BlobFile>)>();
            foreach (var arch in new[] { "amd64", "arm64", "ppc64le" }) platforms.Add((arch, await SmallLayersAsync(size, ct)));
            await c.Images.PushIndexAsync(c.A.Host, "s4/app", "v1", platforms, ct);
        },
        BeforeRun = (c, _, _, _) => { c.B.Wipe(); return Task.CompletedTask; },
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours
                ? c.Ours(mode, $"{c.HostA(mode)}/s4/app:v1", $"{c.HostB(mode)}/s4/app:v1")
                : c.Skopeo($"{c.HostA(mode)}/s4/app:v1", $"{c.HostB(mode)}/s4/app:v1", c.SharedSkopeoCache, all: true),
        ],
        Check = f =>
        {
            var lo = Ratio(f, Mode.Loopback, 0.7, out var a);
            var lat = Ratio(f, Mode.Latency40, 0.7, out var b);
            return new Verdict(lo.Met && lat.Met, $"{a}; {b}");
        },
    };

    private Scenario S5() => new()
    {
        Id = "S5", Title = $"release train: {TrainSize} images (2 × {(_quick ? "256 KiB" : "1 MiB")}) across registries in one run vs {TrainSize} skopeo runs",
        Target = "≥ 3× faster", Runs = Runs(3),
        Setup = async (c, ct) =>
        {
            var size = _quick ? 256 * 1024 : MiB;
            for (var k = 0; k < TrainSize; k++)
                await c.Images.PushImageAsync(c.A.Host, $"s5/app-{k:00}", "v1", await SmallLayersAsync(size, ct), "amd64", ct);
        },
        BeforeRun = (c, _, _, _) => { c.B.Wipe(); return Task.CompletedTask; },
        Commands = (c, mode, side, i) => side == Side.Ours
            ? [c.Ours(mode, Enumerable.Range(0, TrainSize).SelectMany(k => new[] { $"{c.HostA(mode)}/s5/app-{k:00}:v1", $"{c.HostB(mode)}/s5/app-{k:00}:v1" }).ToArray())]
            : Enumerable.Range(0, TrainSize).Select(k => c.Skopeo($"{c.HostA(mode)}/s5/app-{k:00}:v1", $"{c.HostB(mode)}/s5/app-{k:00}:v1", c.SharedSkopeoCache)).ToList(),
        Check = f =>
        {
            var speedups = f.Skopeo.Keys.Select(m => (m, x: f.Skopeo[m].MedianSeconds / f.Ours[m].MedianSeconds)).ToList();
            return new Verdict(speedups.All(s => s.x >= 3), $"skopeo/ours {string.Join(", ", speedups.Select(s => $"{s.m} {s.x:0.0}×"))}");
        },
    };

    private Scenario S6() => new()
    {
        Id = "S6", Title = $"one {(_quick ? "128 MiB" : "1 GiB")} layer across registries", Target = "peak memory ≤ 150 MiB", Runs = 1,
        Setup = async (c, ct) => await c.Images.PushImageAsync(c.A.Host, "s6/app", "v1", [await c.Images.CreateLayerAsync((_quick ? 128 : 1024) * MiB, ct)], "amd64", ct),
        BeforeRun = (c, _, _, _) => { c.B.Wipe(); return Task.CompletedTask; },
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours
                ? c.Ours(mode, $"{c.HostA(mode)}/s6/app:v1", $"{c.HostB(mode)}/s6/app:v1")
                : c.Skopeo($"{c.HostA(mode)}/s6/app:v1", $"{c.HostB(mode)}/s6/app:v1", c.SharedSkopeoCache),
        ],
        Check = f =>
        {
            var peak = f.Ours.Values.Max(s => s.PeakRssKiB) / 1024.0;
            return new Verdict(peak <= 150, $"{peak:0} MiB");
        },
    };

    private Scenario S7() => new()
    {
        Id = "S7", Title = "re-run of a promotion that is already done (S3's image)", Target = "≤ 2 requests per image after the ping",
        Runs = Runs(5),
        Setup = async (c, ct) =>
        {
            c.B.Wipe();
            var t = await TimedProcess.RunAsync(c.Skopeo($"{c.A.Host}/s3/app:v1", $"{c.B.Host}/s7/app:v1", c.SharedSkopeoCache), ct);
            if (t.ExitCode != 0) throw new InvalidOperationException("S7 setup copy failed: " + t.Output);
        },
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours
                ? c.Ours(mode, $"{c.HostA(mode)}/s3/app:v1", $"{c.HostB(mode)}/s7/app:v1")
                : c.Skopeo($"{c.HostA(mode)}/s3/app:v1", $"{c.HostB(mode)}/s7/app:v1", c.SharedSkopeoCache),
        ],
        Check = f =>
        {
            var worst = f.Ours.Values.Max(s => s.Requests - s.Pings);
            return new Verdict(worst <= 2, $"{worst} requests after the ping");
        },
    };

    private string _gitopsRoot = "";
    private string _editedFile = "";
    private string _editedOriginal = "";

    private Scenario S9() => new()
    {
        Id = "S9", Title = "GitOps edit of one image in a repository of 2,000 manifests (no clone/push)", Target = "≤ 1 s",
        Runs = Runs(5), SkopeoApplies = false, Modes = [Mode.Loopback],
        Setup = (c, ct) =>
        {
            _gitopsRoot = GitOpsEdit.Generate(Path.Combine(c.WorkDirectory, "gitops"), 2000);
            _editedFile = Path.Combine(_gitopsRoot, GitOpsEdit.FileOf(GitOpsEdit.EditedService));
            _editedOriginal = File.ReadAllText(_editedFile);
            return Task.CompletedTask;
        },
        BeforeRun = (_, _, _, _) => { File.WriteAllText(_editedFile, _editedOriginal); return Task.CompletedTask; },
        Commands = (c, mode, side, i) => [new Command([Path.Combine(AppContext.BaseDirectory, "ImagePromotion.Bench"), "gitops-edit", _gitopsRoot])],
        Note = output => output.Split('\n').FirstOrDefault(l => l.StartsWith("edit:"))?.Trim(),
        Check = f =>
        {
            var s = f.Ours[Mode.Loopback.Name].MedianSeconds;
            return new Verdict(s <= 1, $"{s:0.00} s (whole process)");
        },
    };
}
