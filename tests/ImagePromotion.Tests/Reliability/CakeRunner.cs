using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// Runs <c>./build.sh</c> of this checkout as a user or CI job would (the EndToEnd approach), with a
/// configuration and artifacts directory of the test's own and an explicit environment on top of ours.
/// </summary>
internal sealed partial class CakeRunner(string workDirectory, string configPath)
{
    public static string RepositoryRoot { get; } = FindRoot();
    public string WorkDirectory { get; } = workDirectory;
    public string ConfigPath { get; } = configPath;
    public string ArtifactsDirectory => Path.Combine(WorkDirectory, "artifacts");
    public Dictionary<string, string?> Environment { get; } = new();
    /// <summary>The directory ./build.sh is started from (default: the repository root), as a user's shell would.</summary>
    public string? RunFrom { get; set; }

    public sealed record Run(string Arguments, int ExitCode, string Output)
    {
        public string[] ErrorLines => Output.Split('\n').Where(l => l.StartsWith("Error:", StringComparison.Ordinal)).ToArray();
        public override string ToString() => $"./build.sh {Arguments} -> exit {ExitCode}\n{Output}";
    }

    public Run Execute(params string[] arguments) => Execute(null, arguments);

    public Run Execute(IReadOnlyDictionary<string, string?>? extraEnvironment, params string[] arguments)
    {
        var psi = new ProcessStartInfo(Path.Combine(RepositoryRoot, "build.sh"))
        {
            WorkingDirectory = RunFrom ?? RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add($"--config={ConfigPath}");
        psi.ArgumentList.Add($"--artifacts={ArtifactsDirectory}");
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        // Never the developer's own registry logins, nor a CI system's variables.
        var dockerConfig = Path.Combine(WorkDirectory, "docker-config");
        Directory.CreateDirectory(dockerConfig);
        if (!File.Exists(Path.Combine(dockerConfig, "config.json"))) File.WriteAllText(Path.Combine(dockerConfig, "config.json"), "{\"auths\": {}}\n");
        psi.Environment["DOCKER_CONFIG"] = dockerConfig;
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("GITHUB_", StringComparison.Ordinal) || k.StartsWith("CODEBUILD_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(k);
        foreach (var (k, v) in Environment) psi.Environment[k] = v;
        foreach (var (k, v) in extraEnvironment ?? new Dictionary<string, string?>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); Assert.Fail($"build.sh {string.Join(' ', arguments)} did not finish in 3 minutes"); }
        var run = new Run(string.Join(' ', arguments), p.ExitCode, Ansi().Replace(stdout.Result + stderr.Result, ""));
        TestContext.Out.WriteLine(run.ToString());
        return run;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "build.sh"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("build.sh not found above the test directory");
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();
}
