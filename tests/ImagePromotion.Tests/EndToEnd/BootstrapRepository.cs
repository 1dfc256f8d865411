using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.EndToEnd;

/// <summary>
/// A copy of this repository's bootstrap (build.sh, the tool manifest, cake.config, build/, the module's
/// sources and its built .artifacts/module) in a folder of its own, so a test can damage caches and edit
/// sources without touching the checkout. Runs its build.sh with an XDG cache folder of its own.
/// </summary>
internal sealed partial class BootstrapRepository : IDisposable
{
    private BootstrapRepository(string root, string packages)
    {
        Root = root;
        Packages = packages;
    }

    /// <summary>The copy's root, where its build.sh is.</summary>
    public string Root { get; }

    /// <summary>NuGet's global packages folder where the checkout's build.sh found Cake.Tool.</summary>
    public string Packages { get; }

    public string XdgCache => Path.Combine(Root, "xdg-cache");
    public string ModuleStamp => Path.Combine(Root, ".artifacts", "module", ".sources.sha256");
    public string ToolState => Path.Combine(Root, ".artifacts", "cake-tool.path");
    public string ScriptCache => Path.Combine(Root, "build", ".cake-cache");

    public sealed record Run(int ExitCode, string Output)
    {
        /// <summary>build.sh's line naming the Cake it ran: "Cake VERSION: PATH (HOW)".</summary>
        public Match CakeLine => CakeLinePattern().Match(Output);
        public override string ToString() => $"exit {ExitCode}\n{Output}";
    }

    /// <summary>
    /// Brings the checkout's module up to date (its own build.sh), then copies what build.sh reads. The
    /// copied sources are newer than the copied build, as in a fresh clone with a restored cache.
    /// </summary>
    public static BootstrapRepository Create(string checkout)
    {
        var prepare = Execute(checkout, ["--version"], new Dictionary<string, string?>());
        if (prepare.ExitCode != 0) Assert.Fail($"the checkout's build.sh failed: {prepare}");
        var state = File.ReadAllText(Path.Combine(checkout, ".artifacts", "cake-tool.path")).Trim();
        var cakeDll = state[(state.IndexOf(' ') + 1)..];
        var packages = cakeDll[..cakeDll.IndexOf("/cake.tool/", StringComparison.Ordinal)];

        var root = Directory.CreateTempSubdirectory("bootstrap-").FullName;
        foreach (var file in new[] { "build.sh", "cake.config", "Directory.Build.props", ".config/dotnet-tools.json" })
            CopyFile(Path.Combine(checkout, file), Path.Combine(root, file));
        CopyTree(Path.Combine(checkout, "build"), Path.Combine(root, "build"), skip: [".cake-cache", "tools", "bin", "obj"]);
        CopyTree(Path.Combine(checkout, "src", "ImagePromotion"), Path.Combine(root, "src", "ImagePromotion"), skip: ["bin", "obj"]);
        CopyTree(Path.Combine(checkout, ".artifacts", "module"), Path.Combine(root, ".artifacts", "module"), skip: []);
        // The build's own files keep their times; the sources got new ones on copy, so they look newer.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, ".artifacts", "module")))
            File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(Path.Combine(checkout, ".artifacts", "module", Path.GetFileName(file))));
        File.SetLastWriteTimeUtc(Path.Combine(root, ".artifacts", "module", ".sources.sha256"), DateTime.UtcNow.AddMinutes(-10));
        return new BootstrapRepository(root, packages);
    }

    /// <summary>Runs the copy's build.sh with --verbosity=diagnostic, so it names its choices.</summary>
    public Run Execute(IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var env = new Dictionary<string, string?>(environment) { ["XDG_CACHE_HOME"] = XdgCache };
        if (!env.ContainsKey("CI")) env["CI"] = "true";
        return Execute(Root, [.. arguments, "--verbosity=diagnostic"], env);
    }

    /// <summary>Where build.sh keeps the ReadyToRun copy of Cake for this Cake version and platform.</summary>
    public string ReadyToRunCopy(string cakeVersion) =>
        Path.Combine(XdgCache, "image-promotion", $"cake-r2r-{cakeVersion}-net10.0-{Rid()}");

    /// <summary>A copy of the Cake.Tool package's files with the listing build.sh writes last (<c>.complete</c>), made a minute ago.</summary>
    public string CreateCopyOfCake(string cakeVersion)
    {
        var source = Path.Combine(Packages, "cake.tool", cakeVersion, "tools", "net10.0", "any");
        var copy = ReadyToRunCopy(cakeVersion);
        CopyTree(source, copy, skip: []);
        var listed = Directory.EnumerateFiles(copy).Select(Path.GetFileName)
            .Where(n => n!.EndsWith(".dll", StringComparison.Ordinal) || n.EndsWith(".json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        var complete = Path.Combine(copy, ".complete");
        File.WriteAllLines(complete, listed!);
        // Made a while ago, as build.sh makes it: its files first, the listing last.
        foreach (var file in Directory.EnumerateFiles(copy)) File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-2));
        File.SetLastWriteTimeUtc(complete, DateTime.UtcNow.AddMinutes(-1));
        return copy;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static Run Execute(string root, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var psi = new ProcessStartInfo(Path.Combine(root, "build.sh"))
        {
            WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        foreach (var k in psi.Environment.Keys.Where(k => k is "CI" or "GITHUB_ACTIONS" or "CODEBUILD_BUILD_ID" || k.StartsWith("IMAGE_PROMOTION_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(k);
        foreach (var (k, v) in environment)
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(4))) { p.Kill(true); Assert.Fail($"build.sh {string.Join(' ', arguments)} did not finish in 4 minutes"); }
        var run = new Run(p.ExitCode, Ansi().Replace(stderr.Result + stdout.Result, ""));
        TestContext.Out.WriteLine($"build.sh {string.Join(' ', arguments)} -> {run}");
        return run;
    }

    /// <summary>The platform part of the copy's name, as build.sh derives it (OS and processor).</summary>
    public static string Rid() =>
        (OperatingSystem.IsMacOS() ? "osx-" : "linux-") +
        (System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "x64");

    private static void CopyFile(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, File.GetUnixFileMode(from));
    }

    private static void CopyTree(string from, string to, string[] skip)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            if (skip.Contains(entry.Name)) continue;
            var target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is { } link) File.CreateSymbolicLink(target, link);
            else if (entry is DirectoryInfo) CopyTree(entry.FullName, target, skip);
            else CopyFile(entry.FullName, target);
        }
    }

    [GeneratedRegex(@"build\.sh: Cake (?<version>\S+): (?<path>.+) \((?<how>[^)]+)\)$", RegexOptions.Multiline)]
    private static partial Regex CakeLinePattern();

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}
