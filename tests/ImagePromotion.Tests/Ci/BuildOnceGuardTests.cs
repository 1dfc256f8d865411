using System.Text;
using ImagePromotion.Pipeline.Building;
using ImagePromotion.Tests.Ci.Runner;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Ci;

/// <summary>
/// What keeps one commit's build from being mistaken for another's, run as a CI job runs it: ./build.sh in a fresh
/// clone at commit C, with the shipped configuration and registries that require a login. The commit is the
/// checkout's; a CI variable naming another is refused; a dev tag is re-used only when its image's revision label is
/// that commit; a promotion given its image never builds or pushes.
/// </summary>
[TestFixture, NonParallelizable, Order(952)]
public sealed class BuildOnceGuardTests
{
    private static readonly string Password = "ci-" + Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(10));
    private RunnerMachine _machine = null!;
    private PipelineWorld _world = null!;
    private string _commit = null!;

    private CancellationToken Ct => _cts.Token;

    [OneTimeSetUp]
    public async Task Start()
    {
        PipelineWorld.RequireTools();
        _machine = new RunnerMachine(Password);
        _world = await PipelineWorld.StartAsync(_machine, "ci-robot", Password, Ct);
        _commit = await _machine.CreateOriginAsync(RepositoryRoot.Path, Ct);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_world is not null) await _world.DisposeAsync();
        _machine?.Dispose();
        _cts.Dispose();
    }

    /// <summary>./build.sh ARGS in a fresh clone of C, as a CI job would run it; the output and exit code.</summary>
    private async Task<(int Exit, string Output)> BuildAsync(IReadOnlyDictionary<string, string> ci, params string[] arguments)
    {
        var job = _machine.NewDirectory("guard");
        var workspace = Path.Combine(job, "work");
        await RunnerMachine.GitAsync(job, Ct, "clone", "-q", _machine.OriginUrl, workspace);
        await RunnerMachine.GitAsync(workspace, Ct, "checkout", "-q", "--detach", _commit);
        await _machine.RestoreModuleAsync(workspace, _commit, Ct);
        var env = _machine.BaseEnvironment(job);
        foreach (var (key, value) in _world.ConfigurationOverrides()) env[key] = value;
        env["REGISTRY_USERNAME"] = _world.User;
        env["REGISTRY_PASSWORD"] = _world.Password;
        foreach (var (key, value) in ci) env[key] = value;
        var output = new StringBuilder();
        void Line(string line) { lock (output) output.AppendLine(line); }
        var exit = await _machine.BashAsync(["-c", "./build.sh \"$@\"", "build.sh", .. arguments], workspace, env, Line, Line, TimeSpan.FromMinutes(5), Ct);
        await _machine.SaveModuleAsync(workspace, _commit, Ct);
        TestContext.Out.WriteLine($"./build.sh {string.Join(' ', arguments)} -> {exit}\n{output}");
        return (exit, output.ToString());
    }

    private static string[] Errors(string output) => output.Split('\n').Where(l => l.StartsWith("Error:", StringComparison.Ordinal)).ToArray();

    [Test, Order(1)]
    public async Task A_CI_variable_naming_another_commit_than_the_checkout_is_refused_naming_both()
    {
        var other = new string('d', 40);
        var (exit, output) = await BuildAsync(new Dictionary<string, string> { ["GITHUB_SHA"] = other }, "--target=BuildOnce");
        Assert.That(exit, Is.Not.Zero);
        Assert.That(Errors(output), Has.Length.EqualTo(1), output);
        Assert.That(Errors(output)[0], Does.Contain($"GITHUB_SHA={other}").And.Contain(_commit));
        Assert.That(_machine.Builds, Is.Empty, "nothing was built");
    }

    [Test, Order(2)]
    public async Task Building_another_commit_than_the_checkout_is_refused()
    {
        var other = new string('e', 40);
        var (exit, output) = await BuildAsync(new Dictionary<string, string>(), "--target=BuildOnce", $"--commit={other}");
        Assert.That(exit, Is.Not.Zero);
        Assert.That(Errors(output).Single(), Does.Contain($"commit {other} has no build").And.Contain(_commit).And.Contain("--commit"));
        Assert.That(_machine.Builds, Is.Empty);
    }

    [Test, Order(5)]
    public async Task Another_commit_whose_build_is_in_dev_is_promoted_without_building()
    {
        // An earlier commit's build, labelled with its revision, as BuildOnce left it: --commit names it, the checkout
        // is a later commit, and nothing needs the sources, so nothing is built and that build is what staging gets.
        var other = new string('f', 40);
        var built = await TestImages.PushRandomImageAsync(_world.Dev, PipelineWorld.Repository, $"git-{other[..12]}", cancellationToken: Ct,
            labels: new Dictionary<string, string> { [BuildRevision.RevisionLabel] = other });
        var (exit, output) = await BuildAsync(new Dictionary<string, string>(), "--target=PromoteStaging", $"--commit={other}");
        Assert.That(exit, Is.Zero, output);
        Assert.That(_machine.Builds, Is.Empty, "nothing built");
        Assert.That(await _world.DigestAsync(_world.Dev, "staging", Ct), Is.EqualTo(built.Digest.ToString()));
    }

    [Test, Order(3)]
    public async Task A_promotion_given_its_image_never_builds_or_pushes_even_when_the_commit_was_never_pushed()
    {
        // What the promotion jobs do: name the artifact. A digest the dev repository does not hold is refused, and
        // nothing is built or pushed for the checkout's commit in its place.
        var absent = "sha256:" + new string('a', 64);
        var image = $"{_world.Dev.Host}/{PipelineWorld.Repository}@{absent}";
        var (exit, output) = await BuildAsync(new Dictionary<string, string> { ["GITHUB_SHA"] = _commit }, "--target=PromoteStaging", $"--image={image}");
        Assert.That(exit, Is.Not.Zero);
        Assert.That(Errors(output).Single(), Does.Contain(absent));
        Assert.That(output, Does.Contain("BuildOnce: skipped, --image/--digest names the image to promote")
            .And.Contain("PushDev: skipped, --image/--digest names the image to promote"));
        Assert.That(_machine.Builds, Is.Empty);
        Assert.That(await _world.DigestAsync(_world.Dev, $"git-{_commit[..12]}", Ct), Is.Null, "nothing pushed");
        Assert.That(await _world.DigestAsync(_world.Dev, "staging", Ct), Is.Null, "nothing promoted");
    }

    [Test, Order(4)]
    public async Task A_dev_tag_holding_an_image_without_this_commits_revision_label_is_not_reused()
    {
        // What the old pipeline left: another commit's sources pushed under this commit's tag (no revision label).
        var tag = $"git-{_commit[..12]}";
        await TestImages.PushRandomImageAsync(_world.Dev, PipelineWorld.Repository, tag, cancellationToken: Ct);
        foreach (var target in new[] { "BuildOnce", "PushDev" })
        {
            var (exit, output) = await BuildAsync(new Dictionary<string, string>(), $"--target={target}");
            Assert.That(exit, Is.Not.Zero, target);
            Assert.That(Errors(output).Single(), Does.Contain($"{_world.Dev.Host}/{PipelineWorld.Repository}:{tag}")
                .And.Contain("org.opencontainers.image.revision label is absent").And.Contain(_commit), target);
        }
        Assert.That(_machine.Builds, Is.Empty, "refused before building");
    }
}
