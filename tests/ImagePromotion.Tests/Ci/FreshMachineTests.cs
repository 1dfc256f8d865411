using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline.Building;
using ImagePromotion.Pipeline.Sandbox;

namespace ImagePromotion.Tests.Ci;

/// <summary>
/// A fresh machine, as CI runners and this project's machines are: a Docker CLI may be installed with no engine
/// behind it. The builder and the sandbox's packages are chosen by whether an engine answers <c>docker info</c>,
/// never by whether a <c>docker</c> binary exists. Tools are fakes on a PATH of the test's own.
/// </summary>
[TestFixture]
public sealed class FreshMachineTests
{
    private CiSandbox _sandbox = null!;
    private string _bin = null!;
    private PromotionConfig _config = null!;

    [SetUp]
    public void Create()
    {
        _sandbox = new CiSandbox();
        _bin = Directory.CreateDirectory(_sandbox.PathOf("bin")).FullName;
        File.WriteAllText(_sandbox.PathOf("promotion.yaml"), """
            service: app
            build: { context: ., builder: auto }
            registries:
              dev: { host: 127.0.0.1:5999, insecure: true }
            environments:
              dev: { registry: dev, repository: team/app, tag: "git-{commit}" }
              staging: { registry: dev, repository: team/app, tag: staging }
            """);
        _config = ConfigLoader.Load(_sandbox.PathOf("promotion.yaml"));
    }

    private BuildSettings Build => _config.Applications[0].Images[0].Build;

    [TearDown]
    public void Remove() => _sandbox.Dispose();

    private void Tool(string name, string script)
    {
        var path = Path.Combine(_bin, name);
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private void DockerCliWithoutEngine() =>
        Tool("docker", "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1");

    private void DockerWithEngine() => Tool("docker", "[ \"$1\" = info ] && echo 27.3.1; exit 0");

    [Test]
    public async Task A_docker_cli_without_an_engine_is_no_builder_so_the_sandbox_installs_buildah()
    {
        DockerCliWithoutEngine();
        Assert.That(await ImageBuilder.EngineAnswersAsync(_bin, CancellationToken.None), Is.False);
        var missing = await new LocalSandbox(_config, new MemoryLog()).MissingPackagesAsync(CancellationToken.None, _bin);
        Assert.That(missing, Is.EquivalentTo(new[] { "docker-registry", "buildah", "git" }));
        var e = Assert.ThrowsAsync<PromotionException>(() => new ImageBuilder(_config, _sandbox.Root, new MemoryLog()).ChooseBuilderAsync(Build, CancellationToken.None, _bin));
        Assert.That(e!.Message, Does.Contain("no Docker engine answers 'docker info'").And.Contain("apt-get install buildah"));
    }

    [Test]
    public async Task With_buildah_installed_and_no_engine_buildah_builds()
    {
        DockerCliWithoutEngine();
        Tool("buildah", "exit 0");
        Assert.That(await new ImageBuilder(_config, _sandbox.Root, new MemoryLog()).ChooseBuilderAsync(Build, CancellationToken.None, _bin), Is.EqualTo("buildah"));
        Assert.That(await new LocalSandbox(_config, new MemoryLog()).MissingPackagesAsync(CancellationToken.None, _bin), Does.Not.Contain("buildah"));
    }

    [Test]
    public async Task An_engine_that_answers_builds_and_buildah_is_not_needed()
    {
        DockerWithEngine();
        Tool("buildah", "exit 0");
        Assert.That(await new ImageBuilder(_config, _sandbox.Root, new MemoryLog()).ChooseBuilderAsync(Build, CancellationToken.None, _bin), Is.EqualTo("docker"));
        File.Delete(Path.Combine(_bin, "buildah"));
        Assert.That(await new LocalSandbox(_config, new MemoryLog()).MissingPackagesAsync(CancellationToken.None, _bin), Does.Not.Contain("buildah"));
    }

    [TestCase("0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567", true)]
    [TestCase("0123456789ABCDEF0123456789abcdef01234567", "0123456789abcdef", true)]
    [TestCase("0123456789abcdef0123456789abcdef01234567", "0123456", true)]
    [TestCase("0123456789abcdef0123456789abcdef01234567", "012345", false)]
    [TestCase("0123456789abcdef0123456789abcdef01234567", "1123456789abcdef", false)]
    [TestCase(null, "0123456789abcdef", false)]
    public void A_revision_matches_the_same_commit_or_an_abbreviation_of_at_least_7_digits(string? label, string commit, bool matches) =>
        Assert.That(BuildRevision.Matches(label, commit), Is.EqualTo(matches));

    [Test]
    public async Task The_source_label_never_carries_credentials_of_the_remote_url()
    {
        var repo = Directory.CreateDirectory(_sandbox.PathOf("repo")).FullName;
        await Runner.RunnerMachine.GitAsync(repo, CancellationToken.None, "init", "-q");
        await Runner.RunnerMachine.GitAsync(repo, CancellationToken.None, "remote", "add", "origin", "https://x-access-token:ghs_s3cret@github.example.com/acme/app.git");
        var source = await BuildRevision.SourceUrlAsync(new Dictionary<string, string?>(), repo, CancellationToken.None);
        Assert.That(source, Is.EqualTo("https://github.example.com/acme/app.git"));
        var onGitHub = await BuildRevision.SourceUrlAsync(new Dictionary<string, string?> { ["GITHUB_REPOSITORY"] = "acme/app", ["GITHUB_SERVER_URL"] = "https://github.com" }, repo, CancellationToken.None);
        Assert.That(onGitHub, Is.EqualTo("https://github.com/acme/app"));
    }
}
