using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ImagePromotion.Bench;

/// <summary>One command of a run: argv and extra environment.</summary>
public sealed record Command(IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string>? Environment = null, string? WorkingDirectory = null);

public sealed record ProcessTiming(double Seconds, long MaxRssKiB, int ExitCode, string Output);

/// <summary>
/// Runs a command as a whole process under <c>/usr/bin/time -v</c>: wall time from our own clock around
/// the process, peak resident memory from time's report.
/// </summary>
public static partial class TimedProcess
{
    public static async Task<ProcessTiming> RunAsync(Command command, CancellationToken ct)
    {
        var report = Path.GetTempFileName();
        try
        {
            var info = new ProcessStartInfo("/usr/bin/time")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                WorkingDirectory = command.WorkingDirectory ?? Environment.CurrentDirectory,
            };
            foreach (var a in new[] { "-v", "-o", report }.Concat(command.Argv)) info.ArgumentList.Add(a);
            if (command.Environment is not null)
                foreach (var (k, v) in command.Environment) info.Environment[k] = v;
            using var process = new Process { StartInfo = info };
            var clock = Stopwatch.StartNew();
            process.Start();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            var seconds = clock.Elapsed.TotalSeconds;
            var output = (await stdout) + (await stderr);
            var text = await File.ReadAllTextAsync(report, ct);
            var rss = MaxRss().Match(text) is { Success: true } m ? long.Parse(m.Groups[1].Value) : -1;
            return new ProcessTiming(seconds, rss, process.ExitCode, output);
        }
        finally { File.Delete(report); }
    }

    /// <summary>Runs a helper command (not measured); throws on failure.</summary>
    public static async Task<string> RunCheckedAsync(string file, IEnumerable<string> args, CancellationToken ct, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        return await stdout;
    }

    [GeneratedRegex(@"Maximum resident set size \(kbytes\): (\d+)")]
    private static partial Regex MaxRss();
}
