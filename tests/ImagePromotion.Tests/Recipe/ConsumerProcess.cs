using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Recipe;

/// <summary>Runs a process to completion within a time limit, output and error merged, colours stripped.</summary>
internal static partial class ConsumerProcess
{
    public sealed record Result(int ExitCode, string Output)
    {
        public string[] ErrorLines => Output.Split('\n').Where(l => l.StartsWith("Error:", StringComparison.Ordinal)).ToArray();
    }

    // Variables through which the CI systems, Port and the promotion configuration reach the pipeline: the
    // consumer must behave as on a developer's machine whichever CI runs this test.
    private static readonly string[] HostPrefixes = ["GITHUB_", "CODEBUILD_", "PORT_", "PROMOTION", "RUNNER_", "ACTIONS_"];

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?> environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory, UseShellExecute = false,
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => HostPrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
            psi.Environment.Remove(key);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment) psi.Environment[key] = value;

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var lockObject = new object();
        var stdout = PumpAsync(process.StandardOutput, output, lockObject);
        var stderr = PumpAsync(process.StandardError, output, lockObject);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(stdout, stderr);
            Assert.Fail($"{file} {string.Join(' ', arguments)} did not finish in {timeout.TotalSeconds:0} s:\n{output}");
        }
        await Task.WhenAll(stdout, stderr);
        var text = Ansi().Replace(output.ToString(), "");
        return new Result(process.ExitCode, text);
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder output, object lockObject)
    {
        while (await reader.ReadLineAsync() is { } line)
            lock (lockObject) output.Append(line).Append('\n');
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}
