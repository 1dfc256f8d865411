using ImagePromotion.Tests.Copy;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// ./build.sh as a user types it: help in the tool, wrong names answered with the closest valid one, every value
/// checked before anything runs, and paths on the command line relative to the directory it is run from.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class CommandLineTests
{
    private RegistryServer _registry = null!;
    private RegistryTestClient _raw = null!;
    private CakeRunner _cake = null!;
    private CancellationTokenSource _timeout = null!;
    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task Start()
    {
        _timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        _registry = await RegistryServer.StartAsync(cancellationToken: Ct);
        _raw = _registry.CreateClient();
        await TestImages.PushRandomImageAsync(_registry, "team/app", "v1", cancellationToken: Ct);
        var work = Directory.CreateTempSubdirectory("reliability-cli-").FullName;
        await File.WriteAllTextAsync(Path.Combine(work, "promotion.yaml"), $"""
            service: app
            registries:
              dev: {"{"} host: {_registry.Host}, insecure: true {"}"}
            environments:
              dev: {"{"} registry: dev, repository: team/app, tag: v1 {"}"}
              production: {"{"} registry: dev, repository: prod/app, tag: production {"}"}
            """, Ct);
        // The configuration is named relative to the work directory, the directory build.sh is run from.
        _cake = new CakeRunner(work, "promotion.yaml") { RunFrom = work };
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _raw.Dispose();
        await _registry.DisposeAsync();
        try { Directory.Delete(_cake.WorkDirectory, recursive: true); } catch (IOException) { }
        _timeout.Dispose();
    }

    private async Task AssertNoWriteAsync()
    {
        var writes = (await _registry.GetRequestsAsync(Ct)).Where(r => r.Method is "PUT" or "POST" or "PATCH" or "DELETE").ToList();
        Assert.That(writes, Is.Empty, string.Join("; ", writes.Select(w => $"{w.Method} {w.Path}")));
    }

    private static string OneErrorLine(CakeRunner.Run run)
    {
        Assert.That(run.ExitCode, Is.Not.Zero, run.ToString());
        Assert.That(run.ErrorLines, Has.Length.EqualTo(1), run.ToString());
        Assert.That(run.Output, Does.Not.Contain("   at "), "no stack trace");
        return run.ErrorLines[0];
    }

    [Test]
    public void Help_lists_every_target_with_its_arguments_and_the_default()
    {
        var help = _cake.Execute("--help");
        Assert.That(help.ExitCode, Is.Zero, help.ToString());
        Assert.That(help.Output, Does.Contain("Usage: ./build.sh [--target=NAME] [arguments]"));
        Assert.That(help.Output, Does.Contain("Without --target, Sandbox runs."));
        Assert.That(help.Output, Does.Match(@"\n  Copy +Copy an image like skopeo copy[\s\S]*?\n +arguments: --from=REF\|oci:DIR:TAG --to=REF --result-file=PATH"));
        Assert.That(help.Output, Does.Match(@"\n  PromoteStaging +Point the staging tags[\s\S]*?\(runs PushDev first\)\n +arguments: --digest=sha256:… --image=REF@sha256:… --environment=NAME"));
        Assert.That(help.Output, Does.Contain("  --config=PATH"));
        Assert.That(help.Output, Does.Not.Contain("OPTIONS:"), "Cake's own option list is not the help");

        Assert.That(_cake.Execute("--target=help").Output, Does.Contain("Without --target, Sandbox runs."), "the Help target prints the same");

        var description = _cake.Execute("--description");
        Assert.That(description.ExitCode, Is.Zero, description.ToString());
        Assert.That(description.Output, Does.Contain("Arguments: --keys-directory=DIR"));
        Assert.That(description.Output, Does.Contain("(the default target)"));
    }

    [Test]
    public void An_unknown_target_or_argument_is_one_line_with_the_closest_valid_name()
    {
        var target = OneErrorLine(_cake.Execute("--target=PromoteStagin"));
        Assert.That(target, Does.StartWith("Error: unknown target 'PromoteStagin': did you mean PromoteStaging? The targets are Help, BuildOnce, PushDev, Scan, PromoteStaging,"));
        Assert.That(target, Does.Not.Contain("was not found"), "not Cake's message");

        var argument = OneErrorLine(_cake.Execute("--target=Copy", "--resultfile=r.json"));
        Assert.That(argument, Does.StartWith("Error: unknown argument '--resultfile' for target Copy: did you mean --result-file? Copy takes --from=REF|oci:DIR:TAG --to=REF --result-file=PATH"));

        Assert.That(OneErrorLine(_cake.Execute("--target=Status", "--verbosity=loud")),
            Is.EqualTo("Error: --verbosity=loud is not a verbosity: use quiet, minimal, normal, verbose or diagnostic"));
    }

    public static IEnumerable<TestCaseData> BadValues()
    {
        yield return new TestCaseData(new[] { "--target=PromoteStaging", "--digest=sha256:abc" }, "Error: --digest=sha256:abc is not a digest").SetName("Bad --digest before BuildOnce and PushDev");
        yield return new TestCaseData(new[] { "--target=PromoteProduction", "--auto-merge=yes" }, "Error: --auto-merge=yes is not a yes/no value: write --auto-merge=true or --auto-merge=false").SetName("--auto-merge=yes");
        yield return new TestCaseData(new[] { "--target=Copy", "--from=oci:layout", "--to={host}/team/copy:v1" }, "Error: --from=oci:layout names no tag: an OCI layout holds images by tag, so write --from=oci:layout:TAG").SetName("--from=oci:DIR without a tag");
        yield return new TestCaseData(new[] { "--target=Copy", "--from={host}/team/app:v1", "--to={host}/team/copy:v1", "--result-file=missing/copy.json" }, "Error: --result-file=missing/copy.json: the directory").SetName("--result-file in a missing directory, before the copy");
        yield return new TestCaseData(new[] { "--target=Status", "--set", "environments.production.tg=live" }, "Error: --set environments.production.tg=live: unknown key 'environments.production.tg': did you mean tag?").SetName("A typo in --set names the override");
        yield return new TestCaseData(new[] { "--target=Status", "--config=/dev/zero" }, "Error: configuration file '/dev/zero' is empty or not a regular file").SetName("--config=/dev/zero");
    }

    [TestCaseSource(nameof(BadValues))]
    public async Task A_bad_value_is_refused_in_one_line_before_anything_is_written(string[] arguments, string error)
    {
        await _registry.ResetRequestLogAsync(Ct);
        var run = _cake.Execute(arguments.Select(a => a.Replace("{host}", _registry.Host)).ToArray());
        Assert.That(OneErrorLine(run), Does.StartWith(error));
        Assert.That(run.Output, Does.Not.Contain("building"), "nothing was built");
        await AssertNoWriteAsync();
        Assert.That(await _raw.GetManifestDigestAsync("team/copy", "v1", Ct), Is.Null, "nothing was copied");
    }

    [Test]
    public async Task Paths_on_the_command_line_are_relative_to_the_directory_build_sh_runs_from()
    {
        var work = _cake.WorkDirectory;
        var layout = LayoutCopyTests.HandWrittenLayout.Write(Path.Combine(work, "layout"), "v7", [2048]);
        Directory.CreateDirectory(Path.Combine(work, "out"));

        var copy = _cake.Execute("--target=Copy", "--from=oci:layout:v7", $"--to={_registry.Host}/team/from-layout:v7", "--result-file=out/copy.json");

        Assert.That(copy.ExitCode, Is.Zero, copy.ToString());
        Assert.That(await _raw.GetManifestDigestAsync("team/from-layout", "v7", Ct), Is.EqualTo(layout.ManifestDigest));
        var result = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(work, "out", "copy.json"), Ct));
        Assert.That(result.RootElement.GetProperty("destinationDigest").GetString(), Is.EqualTo(layout.ManifestDigest.ToString()));

        await File.WriteAllTextAsync(Path.Combine(work, "deploy.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n    - name: app\n      image: example.com/app:1\n", Ct);
        var manifest = _cake.Execute("--target=UpdateManifest", "--manifest=deploy.yaml", "--container=app", $"--image={_registry.Host}/team/app:v2");
        Assert.That(manifest.ExitCode, Is.Zero, manifest.ToString());
        Assert.That(await File.ReadAllTextAsync(Path.Combine(work, "deploy.yaml"), Ct), Does.Contain($"image: {_registry.Host}/team/app:v2"));

        var keys = _cake.Execute("--target=Keys", "--keys-directory=keys", "--role=scan");
        Assert.That(keys.ExitCode, Is.Zero, keys.ToString());
        Assert.That(File.Exists(Path.Combine(work, "keys", "scan.pub")), Is.True, keys.ToString());
    }
}
