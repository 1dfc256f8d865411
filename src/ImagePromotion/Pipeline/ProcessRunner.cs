using System.Diagnostics;
using ImagePromotion.Logging;

namespace ImagePromotion.Pipeline;

/// <summary>Runs a tool with an argument list (never through a shell) and captures its output.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, IPipelineLog? log = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        log?.Verbose($"run: {file} {string.Join(' ', psi.ArgumentList)}");
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new PromotionException($"'{file}' is not installed or not on PATH: install it (on Debian/Ubuntu: apt-get install {file})");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(ct);
            var error = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            return new Result(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
        }
    }

    /// <summary>True when <paramref name="file"/> is an executable on PATH (the scanners' locator: execute bit, PATHEXT).</summary>
    public static bool Exists(string file) => Scanning.ExecutableLocator.Find(file) is not null;

    /// <summary>The last non-empty line of a tool's error output: usually the one that says what went wrong.</summary>
    public static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";
}
