using System.Diagnostics;
using ImagePromotion.Bench;

// bench/run.sh passes: --console=PATH --repo=ROOT [--quick] [--only=S1,S3] [--out=DIR]
// Internal: gitops-edit ROOT (the process timed in S9).
if (args.Length >= 2 && args[0] == "gitops-edit") return await GitOpsEdit.RunAsync(args[1]);

string? Arg(string name) => args.FirstOrDefault(a => a.StartsWith($"--{name}="))?[(name.Length + 3)..];
var quick = args.Contains("--quick");
var console = Arg("console") ?? throw new ArgumentException("--console=PATH of promote-copy is required");
var repo = Path.GetFullPath(Arg("repo") ?? ".");
var outDir = Path.GetFullPath(Arg("out") ?? Path.Combine(repo, "bench", "results"));
var only = Arg("only")?.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var ct = cts.Token;
void Say(string line) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");

var clock = Stopwatch.StartNew();
var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"imgpromo-bench-{Guid.NewGuid():N}")).FullName;
var machine = await MachineInfo.ReadAsync(repo, ct);
var loadAtStart = MachineInfo.Load();
Say($"work directory {work}; load {loadAtStart}");
await using var a = await BenchRegistry.StartAsync("a", work, ct);
await using var b = await BenchRegistry.StartAsync("b", work, ct);
await using var proxyA = await LatencyProxy.StartAsync(a.Host, Mode.Latency40.Latency, ct);
await using var proxyB = await LatencyProxy.StartAsync(b.Host, Mode.Latency40.Latency, ct);
using var images = new TestImages(work);
var ctx = new BenchContext(repo, work, console, quick, a, b, proxyA, proxyB, images);
Say($"registry A {a.Host} (proxy {proxyA.Host}), registry B {b.Host} (proxy {proxyB.Host})");

var runner = new Runner(ctx, Say);
var reports = new List<ScenarioReport>();
var runs = new List<RunResult>();
try
{
    foreach (var scenario in new Scenarios(ctx).All().Where(s => only is null || only.Contains(s.Id)))
    {
        var before = MachineInfo.Load();
        var figures = await runner.RunAsync(scenario, runs, ct);
        var verdict = scenario.Check(figures);
        Say($"{scenario.Id}: {(verdict.Met ? "met" : "MISSED")}: {verdict.Detail}");
        reports.Add(new ScenarioReport(scenario.Id, scenario.Title, scenario.Target, verdict, figures.Ours, figures.Skopeo, before, MachineInfo.Load()));
    }
}
finally
{
    try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
}

var report = new BenchReport(DateTimeOffset.UtcNow, quick, Arg("host-build") ?? "unknown", machine, loadAtStart, MachineInfo.Load(), Math.Round(clock.Elapsed.TotalSeconds, 1), reports, runs);
Directory.CreateDirectory(outDir);
var markdown = Report.ToMarkdown(report);
await File.WriteAllTextAsync(Path.Combine(outDir, "latest.md"), "# Benchmark: promote-copy vs skopeo\n\n" + markdown, ct);
await File.WriteAllTextAsync(Path.Combine(outDir, "latest.json"), Report.ToJson(report), ct);
Console.WriteLine();
Console.WriteLine(markdown);
Say($"written {Path.Combine(outDir, "latest.md")} and latest.json");
return reports.All(r => r.Verdict.Met) ? 0 : 3;
