using System.Diagnostics;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// The promote-copy console (src/ImagePromotion.Console), the smallest host of the module: built once
/// in the test assembly's configuration when the solution build has not already done so.
/// </summary>
internal static class PromoteCopyConsole
{
    private static readonly Lazy<string> Dll = new(Locate);

    public sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static Run Execute(params string[] arguments)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll.Value);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["DOCKER_CONFIG"] = Path.Combine(Path.GetTempPath(), "imgpromo-no-docker-config");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60))) { p.Kill(true); Assert.Fail("promote-copy did not finish in 60 s"); }
        var run = new Run(p.ExitCode, stdout.Result, stderr.Result);
        TestContext.Out.WriteLine($"promote-copy {string.Join(' ', arguments)} -> {run.ExitCode}\n{run.Output}");
        return run;
    }

    private static string Locate()
    {
        // bin/<Configuration>/net10.0 of the test assembly names the configuration to use.
        var testDir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        var configuration = testDir.Parent!.Name;
        var project = Path.Combine(CakeRunner.RepositoryRoot, "src", "ImagePromotion.Console");
        var dll = Path.Combine(project, "bin", configuration, testDir.Name, "promote-copy.dll");
        var newest = Directory.EnumerateFiles(Path.Combine(CakeRunner.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")).Max(File.GetLastWriteTimeUtc);
        if (File.Exists(dll) && File.GetLastWriteTimeUtc(dll) >= newest) return dll;
        var build = Process.Start(new ProcessStartInfo("dotnet", ["build", project, "-c", configuration, "-nologo", "-v", "quiet", "-clp:ErrorsOnly"])
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var output = build.StandardOutput.ReadToEnd() + build.StandardError.ReadToEnd();
        build.WaitForExit();
        if (build.ExitCode != 0 || !File.Exists(dll)) throw new InvalidOperationException($"building promote-copy failed:\n{output}");
        return dll;
    }
}
