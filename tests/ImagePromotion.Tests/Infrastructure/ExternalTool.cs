using System.Diagnostics;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>Runs a command-line tool to completion and fails with its stderr when it exits non-zero.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static bool Exists(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, tool)));

    public static async Task<string> RunAsync(string tool, IEnumerable<string> arguments,
        CancellationToken cancellationToken = default, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var result = await TryRunAsync(tool, arguments, cancellationToken, workingDirectory, timeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException(
                $"{tool} {string.Join(' ', arguments)} exited {result.ExitCode}: {result.StandardError.Trim()}");
        return result.StandardOutput;
    }

    public static async Task<Result> TryRunAsync(string tool, IEnumerable<string> arguments,
        CancellationToken cancellationToken = default, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {tool}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish in time");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
