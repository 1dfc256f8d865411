using System.Text.Json;

namespace ImagePromotion.Tests.EndToEnd;

/// <summary>
/// build.sh's shortcuts and their fallbacks (README, "Benchmark"): Cake.dll run by path, the module rebuilt
/// only when its sources' content changed, the ReadyToRun copy of Cake used only while intact and made
/// only outside CI where the crossgen2 compiler is there. Each run is <c>build.sh --version</c> in a copy
/// of the repository: Cake starts, prints its version and stops, so a run costs about a second; a copy
/// that was damaged and still used would not start at all.
/// </summary>
[TestFixture, NonParallelizable, Order(990)]
public sealed class BootstrapTests
{
    private BootstrapRepository _repository = null!;
    private string _cakeVersion = null!;

    private static readonly Dictionary<string, string?> InCi = new() { ["CI"] = "true" };
    private static readonly Dictionary<string, string?> OnADevelopersMachine = new() { ["CI"] = null };

    [OneTimeSetUp]
    public void Create()
    {
        var checkout = CheckoutRoot();
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkout, ".config", "dotnet-tools.json")));
        _cakeVersion = manifest.RootElement.GetProperty("tools").GetProperty("cake.tool").GetProperty("version").GetString()!;
        _repository = BootstrapRepository.Create(checkout);
    }

    [OneTimeTearDown]
    public void Remove() => _repository?.Dispose();

    [TearDown]
    public void ForgetCopies()
    {
        if (Directory.Exists(_repository.XdgCache)) Directory.Delete(_repository.XdgCache, recursive: true);
    }

    [Test, Order(1)]
    public void A_clone_whose_sources_are_newer_than_the_cached_build_but_unchanged_keeps_the_module()
    {
        var stampBefore = File.GetLastWriteTimeUtc(_repository.ModuleStamp);
        var run = _repository.Execute(InCi, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Output, Does.Contain("module up to date: sources newer than the build but unchanged"), run.ToString());
        Assert.That(run.Output, Does.Not.Contain("building the pipeline module"), run.ToString());
        Assert.That(File.GetLastWriteTimeUtc(_repository.ModuleStamp), Is.GreaterThan(stampBefore), "the stamp is touched, so the next run skips the hash");

        var again = _repository.Execute(InCi, "--version");
        Assert.That(again.Output, Does.Not.Contain("module up to date: sources newer").And.Not.Contain("building the pipeline module"), again.ToString());
    }

    [Test, Order(2)]
    public void Cake_runs_by_path_from_the_NuGet_packages_folder_and_the_path_is_remembered()
    {
        File.Delete(_repository.ToolState);
        var run = _repository.Execute(InCi, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        var expected = Path.Combine(_repository.Packages, "cake.tool", _cakeVersion, "tools", "net10.0", "any", "Cake.dll");
        Assert.That(run.CakeLine.Groups["path"].Value, Is.EqualTo(expected), run.ToString());
        Assert.That(run.CakeLine.Groups["how"].Value, Is.EqualTo("as shipped"));
        Assert.That(run.Output, Does.Contain(_cakeVersion), "Cake printed its version");
        Assert.That(File.ReadAllText(_repository.ToolState).Trim(), Is.EqualTo($"{_cakeVersion} {expected}"));
    }

    [Test, Order(3)]
    public void A_remembered_path_of_another_Cake_version_is_looked_up_again()
    {
        File.WriteAllText(_repository.ToolState, "6.0.0 /nonexistent/cake.tool/6.0.0/tools/net10.0/any/Cake.dll\n");
        var run = _repository.Execute(InCi, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.CakeLine.Groups["version"].Value, Is.EqualTo(_cakeVersion), run.ToString());
        Assert.That(File.ReadAllText(_repository.ToolState), Does.StartWith(_cakeVersion + " " + _repository.Packages));
    }

    [Test, Order(4)]
    public void An_intact_ReadyToRun_copy_of_Cake_is_run()
    {
        var copy = _repository.CreateCopyOfCake(_cakeVersion);
        var run = _repository.Execute(InCi, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.CakeLine.Groups["path"].Value, Is.EqualTo(Path.Combine(copy, "Cake.dll")), run.ToString());
        Assert.That(run.CakeLine.Groups["how"].Value, Is.EqualTo("ReadyToRun copy"));
    }

    [TestCase("damaged"), TestCase("missing"), Order(5)]
    public void A_damaged_or_incomplete_copy_is_not_run_and_Cake_runs_as_shipped(string fault)
    {
        var copy = _repository.CreateCopyOfCake(_cakeVersion);
        var core = Path.Combine(copy, "Cake.Core.dll");
        if (fault == "damaged") File.WriteAllBytes(core, "not an assembly"u8.ToArray());
        else File.Delete(core);

        var run = _repository.Execute(InCi, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), "Cake started, so the broken copy was not used: " + run);
        Assert.That(run.Output, Does.Contain($"the ReadyToRun copy of Cake in {copy} is incomplete or damaged: not using it"), run.ToString());
        Assert.That(run.CakeLine.Groups["how"].Value, Is.EqualTo("as shipped"), run.ToString());
        Assert.That(run.Output, Does.Not.Contain("precompiling Cake"), "a CI job makes no copy");
    }

    [TestCase("CI", "true"), TestCase("CI", "1"), TestCase("GITHUB_ACTIONS", "true"), TestCase("CODEBUILD_BUILD_ID", "promote:0f1e"), Order(6)]
    public void A_CI_job_makes_no_ReadyToRun_copy_even_where_the_compiler_is_there(string variable, string value)
    {
        AssumeCrossgen();
        var run = _repository.Execute(new Dictionary<string, string?> { ["CI"] = null, [variable] = value }, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Output, Does.Not.Contain("precompiling Cake"), run.ToString());
        Assert.That(Directory.Exists(_repository.ReadyToRunCopy(_cakeVersion)), Is.False);
    }

    [Test, Order(7)]
    public void Outside_CI_a_ReadyToRun_copy_of_Cake_is_made_once_then_run()
    {
        AssumeCrossgen();
        // CI=false is a developer's machine too.
        var environment = new Dictionary<string, string?> { ["CI"] = "false" };
        var first = _repository.Execute(environment, "--version");
        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        Assert.That(first.Output, Does.Contain($"precompiling Cake {_cakeVersion}"), first.ToString());
        var copy = _repository.ReadyToRunCopy(_cakeVersion);
        Assert.That(first.CakeLine.Groups["path"].Value, Is.EqualTo(Path.Combine(copy, "Cake.dll")), first.ToString());
        Assert.That(first.CakeLine.Groups["how"].Value, Is.EqualTo("ReadyToRun copy, just made"));
        Assert.That(first.Output, Does.Contain(_cakeVersion + "\n"), "the precompiled Cake started and printed its version");
        Assert.That(IsReadyToRun(Path.Combine(copy, "Cake.Core.dll")), Is.True, "Cake.Core.dll of the copy carries precompiled code");
        Assert.That(File.ReadAllLines(Path.Combine(copy, ".complete")), Does.Contain("Cake.dll").And.Contain("Cake.Core.dll").And.Contain("Cake.runtimeconfig.json"));

        var second = _repository.Execute(environment, "--version");
        Assert.That(second.ExitCode, Is.EqualTo(0), second.ToString());
        Assert.That(second.Output, Does.Not.Contain("precompiling Cake"), second.ToString());
        Assert.That(second.CakeLine.Groups["how"].Value, Is.EqualTo("ReadyToRun copy"), second.ToString());
    }

    [Test, Order(8)]
    public void Without_the_crossgen2_compiler_in_the_NuGet_folder_no_copy_is_made_and_Cake_runs_as_shipped()
    {
        // A NuGet folder holding Cake.Tool and nothing else: no crossgen2 pack to precompile with.
        var packages = Directory.CreateDirectory(Path.Combine(_repository.Root, "nuget-without-crossgen")).FullName;
        var cakeTool = Path.Combine(packages, "cake.tool");
        if (!Directory.Exists(cakeTool)) Directory.CreateSymbolicLink(cakeTool, Path.Combine(_repository.Packages, "cake.tool"));
        File.Delete(_repository.ToolState);

        var run = _repository.Execute(new Dictionary<string, string?>(OnADevelopersMachine) { ["NUGET_PACKAGES"] = packages }, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Output, Does.Not.Contain("precompiling Cake"), run.ToString());
        Assert.That(run.CakeLine.Groups["path"].Value, Does.StartWith(packages + "/cake.tool/"), run.ToString());
        Assert.That(run.CakeLine.Groups["how"].Value, Is.EqualTo("as shipped"));
        Assert.That(Directory.Exists(_repository.ReadyToRunCopy(_cakeVersion)), Is.False);
        File.Delete(_repository.ToolState);
    }

    [Test, Order(9)]
    public void An_edited_source_rebuilds_the_module_and_drops_the_scripts_compiled_against_the_old_one()
    {
        var hashBefore = File.ReadAllText(_repository.ModuleStamp).Trim();
        Directory.CreateDirectory(_repository.ScriptCache);
        File.WriteAllText(Path.Combine(_repository.ScriptCache, "build.BuildScriptHost.0123.dll"), "compiled against the old module");
        var source = Directory.EnumerateFiles(Path.Combine(_repository.Root, "src", "ImagePromotion"), "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        File.AppendAllText(source, "\n// edited\n");

        var run = _repository.Execute(InCi, "--version");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Output, Does.Contain("building the pipeline module"), run.ToString());
        var hashAfter = File.ReadAllText(_repository.ModuleStamp).Trim();
        Assert.That(hashAfter, Does.Match("^[0-9a-f]{64}$").And.Not.EqualTo(hashBefore));
        Assert.That(run.Output, Does.Contain($"module built from sources sha256 {hashAfter}"));
        var module = Path.Combine(_repository.Root, ".artifacts", "module", "ImagePromotion.dll");
        Assert.That(File.Exists(module));
        // In CI a plain build: a ReadyToRun publish would fetch the crossgen2 and runtime packs in every uncached job.
        Assert.That(IsReadyToRun(module), Is.False, "the CI build of the module is IL only");
        Assert.That(Directory.Exists(_repository.ScriptCache), Is.False, "the script cache is dropped with the old module");
    }

    private void AssumeCrossgen()
    {
        var crossgen = Path.Combine(_repository.Packages, "microsoft.netcore.app.crossgen2." + BootstrapRepository.Rid());
        Assume.That(Directory.Exists(crossgen), Is.True, $"no crossgen2 pack in {_repository.Packages}: nothing to show here");
    }

    /// <summary>Whether an assembly carries ReadyToRun code: its CLI header names a managed native header (ECMA-335 II.25.3.3, R2R format).</summary>
    private static bool IsReadyToRun(string assembly)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assembly));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    private static string CheckoutRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "build.sh"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("build.sh not found above the test directory");
    }
}
