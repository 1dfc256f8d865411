using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImagePromotion.Bench;

public sealed record Machine(string Cpu, int Cores, long MemoryMiB, string Kernel, string Dotnet, string Skopeo, string Registry, string Commit);

public sealed record ScenarioReport(string Id, string Title, string Target, Verdict Verdict,
    Dictionary<string, SideSummary> Ours, Dictionary<string, SideSummary> Skopeo, string LoadBefore, string LoadAfter);

public sealed record BenchReport(DateTimeOffset Date, bool Quick, string HostBuild, Machine Machine, string LoadAtStart, string LoadAtEnd,
    double TotalSeconds, IReadOnlyList<ScenarioReport> Scenarios, IReadOnlyList<RunResult> Runs);

/// <summary>Writes the results as a Markdown table (for the README and for diffs between commits) and as JSON.</summary>
public static class Report
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string ToJson(BenchReport report) => JsonSerializer.Serialize(report, Json);

    public static string ToMarkdown(BenchReport r)
    {
        var m = r.Machine;
        var md = new StringBuilder();
        md.AppendLine($"Run {r.Date:yyyy-MM-dd HH:mm} UTC{(r.Quick ? " (**--quick**: fewer runs, smaller images)" : "")}, commit `{m.Commit}`, in {r.TotalSeconds / 60:0.0} min.");
        md.AppendLine($"Machine: {m.Cpu}, {m.Cores} cores, {m.MemoryMiB / 1024.0:0.0} GiB RAM, {m.Kernel}; .NET {m.Dotnet}, skopeo {m.Skopeo}, {m.Registry}.");
        md.AppendLine($"Our side: `promote-copy` built {(r.HostBuild == "aot" ? "with Native AOT (how a CLI ships; skopeo is a compiled Go binary too)" : "as an ordinary JIT .NET app")}; S8 and S10 run `./build.sh` (Cake).");
        md.AppendLine($"Load average (1/5/15 min) at start {r.LoadAtStart}, at end {r.LoadAtEnd}: the machine is shared, so single figures wobble; medians of alternating runs.");
        md.AppendLine();
        md.AppendLine("| id | scenario | network | ours (s) | skopeo (s) | ours/skopeo | requests ours | requests skopeo | blob bytes up ours / skopeo | peak RSS ours / skopeo | target | met |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var s in r.Scenarios)
        {
            var first = true;
            foreach (var (mode, ours) in s.Ours)
            {
                s.Skopeo.TryGetValue(mode, out var sk);
                var ratio = sk is null ? "n/a" : (ours.MedianSeconds / sk.MedianSeconds).ToString("0.00×", CultureInfo.InvariantCulture);
                md.Append($"| {(first ? s.Id : "")} | {(first ? s.Title : "")} | {mode} ")
                  .Append($"| {Sec(ours)} | {(sk is null ? "n/a" : Sec(sk))} | {ratio} ")
                  .Append($"| {Req(ours)} | {(sk is null ? "n/a" : Req(sk))} ")
                  .Append($"| {Bytes(ours.BlobBytesUploaded)} / {(sk is null ? "n/a" : Bytes(sk.BlobBytesUploaded))} ")
                  .Append($"| {ours.PeakRssKiB / 1024} / {(sk is null ? "n/a" : (sk.PeakRssKiB / 1024).ToString(CultureInfo.InvariantCulture))} MiB ")
                  .AppendLine($"| {(first ? s.Target : "")} | {(first ? (s.Verdict.Met ? "✅ " : "❌ ") + s.Verdict.Detail : "")} |");
                first = false;
            }
        }
        md.AppendLine();
        md.AppendLine("Requests are what the registries logged, `A+B` (source + destination registry), `/v2/` pings included; skopeo in S5 is the sum of 20 processes. Wall and peak RSS are whole processes (`/usr/bin/time -v`), ours through `promote-copy` (S8, S10: `./build.sh`; S10 adds the extraction of its cache archives). Blob bytes up: blobs committed by upload, from the access logs.");
        var notes = r.Scenarios.SelectMany(s => s.Ours.Where(kv => kv.Value.Note is not null).Select(kv => $"- {s.Id} ({kv.Key}): {kv.Value.Note}")).ToList();
        var failures = r.Scenarios.SelectMany(s => s.Ours.Select(kv => (s.Id, kv.Key, "ours", kv.Value)).Concat(s.Skopeo.Select(kv => (s.Id, kv.Key, "skopeo", kv.Value))))
            .Where(x => x.Item4.Failures > 0).Select(x => $"- {x.Item1} ({x.Item2}, {x.Item3}): {x.Item4.Failures} of {x.Item4.Runs} runs failed: {x.Item4.Error}").ToList();
        if (notes.Count + failures.Count > 0) { md.AppendLine(); foreach (var n in notes.Concat(failures)) md.AppendLine(n); }
        return md.ToString();
    }

    private static string Sec(SideSummary s) => s.MedianSeconds.ToString(s.MedianSeconds < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture) + (s.Failures > 0 ? " ⚠" : "");
    private static string Req(SideSummary s) => $"{s.RequestsA}+{s.RequestsB}";

    private static string Bytes(long b) => b switch
    {
        0 => "0",
        < 1024 * 1024 => $"{b / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{b / 1024.0 / 1024:0.0} MiB",
        _ => $"{b / 1024.0 / 1024 / 1024:0.00} GiB",
    };
}
