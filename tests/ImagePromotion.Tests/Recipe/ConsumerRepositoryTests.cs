using System.Text.RegularExpressions;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Recipe;

/// <summary>
/// Adoption without copying, as the README's "Adopt it in your repository" tells it: both packages packed
/// into a folder feed, a throwaway consumer repository made by following step 2 (<see cref="AdopterSteps"/>),
/// and its PromoteStaging and Status runs against two real registries. One consumer for the class; the
/// tests run in order.
/// </summary>
[TestFixture, NonParallelizable, Order(1100)]
public sealed class ConsumerRepositoryTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(6);
    private const string Repository = "team/consumer-app";

    private string _work = null!;
    private RecipePackages _packages = null!;
    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private ConsumerRepository _consumer = null!;
    private PushedImage _image = null!;
    private CancellationTokenSource _cts = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _cts = new CancellationTokenSource(Budget);
        var root = RecipeSource.RepositoryRoot();
        _work = Directory.CreateTempSubdirectory("consumer-").FullName;
        var feed = Directory.CreateDirectory(Path.Combine(_work, "feed")).FullName;
        _packages = await RecipePackages.PackAsync(root, feed, _cts.Token);
        _dev = await RegistryServer.StartAsync(cancellationToken: _cts.Token);
        _prod = await RegistryServer.StartAsync(cancellationToken: _cts.Token);
        _consumer = await ConsumerRepository.CreateAsync(root, Directory.CreateDirectory(Path.Combine(_work, "repo")).FullName, feed, $$"""
            service: consumer-app
            build: { context: ., builder: buildah }
            registries:
              dev: { host: {{_dev.Host}}, insecure: true }
              prod: { host: {{_prod.Host}}, insecure: true }
            environments:
              dev: { registry: dev, repository: {{Repository}}, tag: "git-{commit}", tagMayMove: false }
              staging: { registry: dev, repository: {{Repository}}, tag: staging }
              production: { registry: prod, repository: {{Repository}}, tag: production }
            """, _cts.Token);
        // The build of this commit is already in dev, as after the consumer's CI pushed it: BuildOnce and
        // PushDev find it there and skip, so the run needs no container builder.
        _image = await TestImages.PushRandomImageAsync(_dev, Repository, $"git-{_consumer.CommitTag}", cancellationToken: _cts.Token);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_prod is not null) await _prod.DisposeAsync();
        if (_dev is not null) await _dev.DisposeAsync();
        _cts?.Dispose();
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Test, Order(1)]
    public void The_packages_hold_the_module_with_its_dependencies_and_every_cake_file_as_content()
    {
        Assert.That(RecipePackages.Entries(_packages.ModulePackage), Does.Contain("lib/net10.0/ImagePromotion.dll"));
        Assert.That(RecipePackages.Dependencies(_packages.ModulePackage), Is.EquivalentTo(new Dictionary<string, string>
        {
            ["YamlDotNet"] = "18.1.0", ["Octokit"] = "14.0.0", ["CliWrap"] = "3.10.5", ["DiffPlex"] = "1.9.0", ["Polly.Core"] = "8.9.1",
        }));
        var cake = RecipePackages.Entries(_packages.RecipePackage).Where(e => e.EndsWith(".cake", StringComparison.Ordinal));
        Assert.That(cake, Is.EquivalentTo(RecipeSource.CakeFiles(RecipeSource.RepositoryRoot()).Select(f => "content/" + f)));
        Assert.That(RecipePackages.Dependencies(_packages.RecipePackage), Is.Empty, "the module comes in through #addin, not as a dependency");
    }

    [Test, Order(1)]
    public void The_module_package_carries_the_doc_comments_beside_the_dll()
    {
        // GenerateDocumentationFile is on for the module: the .xml ships in lib/ so a consumer's editor shows the docs.
        using var zip = System.IO.Compression.ZipFile.OpenRead(_packages.ModulePackage);
        var xml = zip.GetEntry("lib/net10.0/ImagePromotion.xml");
        Assert.That(xml, Is.Not.Null, "lib/net10.0/ImagePromotion.xml is missing from the module package");
        using var reader = new StreamReader(xml!.Open());
        var text = reader.ReadToEnd();
        Assert.That(text, Does.Contain("<member name=\"T:ImagePromotion.Copy.ImageCopier\">"));
        Assert.That(text, Does.Contain("<member name=\"M:ImagePromotion.Registry.Digest.Parse(System.String)\">"));
    }

    [Test, Order(2)]
    public void The_tool_manifest_is_where_the_README_says_dotnet_new_tool_manifest_writes_it_and_pins_Cake()
    {
        // .NET 10 writes dotnet-tools.json in the current folder, not .config/dotnet-tools.json.
        var manifest = Path.Combine(_consumer.Directory, "dotnet-tools.json");
        Assert.That(File.Exists(manifest), Is.True, "dotnet new tool-manifest wrote no dotnet-tools.json in the repository's root");
        Assert.That(Directory.Exists(Path.Combine(_consumer.Directory, ".config")), Is.False);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest));
        using var ours = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(RecipeSource.RepositoryRoot(), ".config", "dotnet-tools.json")));
        Assert.That(json.RootElement.GetProperty("tools").GetProperty("cake.tool").GetProperty("version").GetString(),
            Is.EqualTo(ours.RootElement.GetProperty("tools").GetProperty("cake.tool").GetProperty("version").GetString()));
    }

    [Test, Order(3)]
    public async Task PromoteStaging_from_the_packages_points_staging_at_the_digest_built_once()
    {
        var run = await _consumer.BuildAsync(_cts.Token, "--target=PromoteStaging", $"--commit={_consumer.Commit}");
        TestContext.Out.WriteLine(run.Output);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(run.Output, Does.Contain("not building again"), "BuildOnce found the commit's build in dev");
        Assert.That(run.Output, Does.Contain("nothing to push"), "PushDev found it too");
        Assert.That(File.Exists(Path.Combine(_consumer.Directory, "tools", $"ImagePromotion.Recipe.{_packages.Version}", "content", "lib", "host.cake")),
            "Cake installed the recipe package into the consumer's tools/");
        using var client = _dev.CreateClient();
        var staging = await client.GetManifestDigestAsync(Repository, "staging", _cts.Token);
        Assert.That(staging, Is.EqualTo(_image.Digest), "staging is the same artifact as dev, not a rebuild");
        using var production = _prod.CreateClient();
        Assert.That(await production.GetManifestDigestAsync(Repository, "production", _cts.Token), Is.Null, "PromoteStaging stops at staging");
    }

    [Test, Order(4)]
    public async Task Status_finds_the_consumers_config_commit_and_artifacts_folder_by_itself()
    {
        // No --config and no --commit: promotion.yaml at the consumer's root, the commit from its git HEAD,
        // the summary under its .artifacts. Any path resolved against this checkout would miss all three.
        var run = await _consumer.BuildAsync(_cts.Token, "--target=Status");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        var rows = Regex.Matches(run.Output, @"^(dev|staging|production)\s+(\S+)\s+(\S+)", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => (Reference: m.Groups[2].Value, Digest: m.Groups[3].Value));
        Assert.That(rows["dev"], Is.EqualTo(($"{_dev.Host}/{Repository}:git-{_consumer.CommitTag}", _image.Digest.ToString())), run.Output);
        Assert.That(rows["staging"].Digest, Is.EqualTo(_image.Digest.ToString()), run.Output);
        Assert.That(rows["production"].Digest, Is.EqualTo("(absent)"), run.Output);
        Assert.That(File.Exists(Path.Combine(_consumer.Directory, ".artifacts", "summary.md")), "artifacts go to the consumer's .artifacts");
    }

    [Test, Order(5)]
    public async Task With_the_READMEs_cake_config_a_later_run_takes_the_compiled_script_from_the_cache()
    {
        // Without cake.config Cake compiles build.cake and the recipe on every run (its script cache is off by default).
        var cache = Path.Combine(_consumer.Directory, ".cake-cache");
        var before = CompiledScripts(cache);
        Assert.That(before, Is.Not.Empty, "the earlier runs left their compiled script in .cake-cache");

        var run = await _consumer.BuildAsync(_cts.Token, "--target=Status");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(CompiledScripts(cache), Is.EqualTo(before), "the cached assembly was loaded, not compiled and written again");
    }

    [Test, Order(6)]
    public async Task The_READMEs_gitignore_covers_everything_the_runs_wrote()
    {
        Assert.That(Directory.Exists(Path.Combine(_consumer.Directory, "tools")), "the runs installed the packages into tools/");
        Assert.That(await _consumer.UncommittedAsync(_cts.Token), Is.Empty, "git status after the runs");
    }

    private static Dictionary<string, DateTime> CompiledScripts(string cache) =>
        Directory.Exists(cache)
            ? Directory.EnumerateFiles(cache, "*.dll").ToDictionary(f => Path.GetFileName(f), File.GetLastWriteTimeUtc)
            : [];
}
