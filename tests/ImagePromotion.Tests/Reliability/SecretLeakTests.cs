using System.Text;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Tests.Infrastructure;
using ImagePromotion.Tests.Servers.Port;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// Every target at --verbosity=diagnostic against Basic-auth registries, with known secret values in
/// every place a secret comes from (usernameEnv/passwordEnv, REGISTRY_&lt;HOST&gt;_PASSWORD,
/// PORT_CLIENT_SECRET with Port reporting on, GITOPS_TOKEN, a wrong password). None of them may appear
/// in stdout/stderr, in any file under the artifacts directory, in a result file or in the work directory.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class SecretLeakTests
{
    private static readonly string DevPassword = "devPW-" + Guid.NewGuid().ToString("N");
    private static readonly string ProdPassword = "prodPW-" + Guid.NewGuid().ToString("N");
    private static readonly string WrongPassword = "wrongPW-" + Guid.NewGuid().ToString("N");
    private static readonly string GitOpsToken = "ghp_" + Guid.NewGuid().ToString("N");

    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private PortTestServer _port = null!;
    private CakeRunner _cake = null!;
    private readonly List<CakeRunner.Run> _runs = [];

    private static IEnumerable<string> Secrets(string devUser, string prodUser) =>
    [
        DevPassword, ProdPassword, WrongPassword, GitOpsToken, PortTestServer.ClientSecret,
        Basic(devUser, DevPassword), Basic(prodUser, ProdPassword), Basic(prodUser, WrongPassword),
    ];

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    [OneTimeSetUp]
    public async Task Start()
    {
        if (!ExternalTool.Exists("buildah")) Assert.Ignore("buildah is not installed: BuildOnce cannot run");
        var dev = RegistryServer.StartAsync(RegistryServerOptions.BasicAuth("dev-user", DevPassword));
        var prod = RegistryServer.StartAsync(RegistryServerOptions.BasicAuth("prod-user", ProdPassword));
        _dev = await dev;
        _prod = await prod;
        _port = await PortTestServer.StartAsync();
        _port.CreateRun("run-secrets");
        var work = Directory.CreateTempSubdirectory("reliability-secrets-").FullName;
        var config = Path.Combine(work, "promotion.yaml");
        await File.WriteAllTextAsync(config, $"""
            service: sample-app
            build:
              context: {Path.Combine(CakeRunner.RepositoryRoot, "examples", "sample-app")}
              builder: buildah
            registries:
              dev:
                host: {_dev.Host}
                insecure: true
                usernameEnv: SECRET_TEST_DEV_USER
                passwordEnv: SECRET_TEST_DEV_PASSWORD
              prod:
                host: {_prod.Host}
                insecure: true
            environments:
              dev: {"{"} registry: dev, repository: team/sample-app, tag: "git-{"{commit}"}", tagMayMove: false {"}"}
              staging: {"{"} registry: dev, repository: team/sample-app, tag: staging {"}"}
              production: {"{"} registry: prod, repository: team/sample-app, tag: production {"}"}
            """);
        _cake = new CakeRunner(work, config);
        var prefix = CredentialStore.EnvironmentPrefix(_prod.Host);
        foreach (var (k, v) in new Dictionary<string, string?>
        {
            ["SECRET_TEST_DEV_USER"] = "dev-user", ["SECRET_TEST_DEV_PASSWORD"] = DevPassword,
            [prefix + "USERNAME"] = "prod-user", [prefix + "PASSWORD"] = ProdPassword,
            ["PORT_CLIENT_ID"] = PortTestServer.ClientId, ["PORT_CLIENT_SECRET"] = PortTestServer.ClientSecret,
            ["PORT_BASE_URL"] = _port.BaseUrl.ToString(), ["GITOPS_TOKEN"] = GitOpsToken,
        })
            _cake.Environment[k] = v;
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_dev is null) return;
        await _dev.DisposeAsync();
        await _prod.DisposeAsync();
        await _port.DisposeAsync();
        try { Directory.Delete(_cake.WorkDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private CakeRunner.Run Run(params string[] arguments) =>
        Run(null, arguments);

    private CakeRunner.Run Run(IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        // The commit is this checkout's: the Sandbox run builds it, and a build is always of the checkout.
        var run = _cake.Execute(environment, [.. arguments, "--verbosity=diagnostic", "--port-run-id=run-secrets"]);
        _runs.Add(run);
        return run;
    }

    [Test]
    public async Task No_target_prints_or_writes_a_secret_at_diagnostic_verbosity()
    {
        // Sandbox = BuildOnce, PushDev, PromoteStaging, PromoteProduction, ReleaseTag and the digest table in
        // one process (no sandbox section: SandboxUp starts nothing); one process per target would cost minutes.
        var sandbox = Run("--target=Sandbox");
        Assert.That(sandbox.ExitCode, Is.Zero, sandbox.ToString());
        foreach (var phase in new[] { "BuildOnce", "PushDev", "PromoteStaging", "PromoteProduction", "ReleaseTag" })
            Assert.That(sandbox.Output, Does.Contain(phase), "every phase ran");
        Assert.That(sandbox.Output, Does.Contain("one digest in every environment"));
        Assert.That(Run("--target=Status").ExitCode, Is.Zero, _runs[^1].ToString());
        var resultFile = Path.Combine(_cake.WorkDirectory, "copy-result.json");
        Assert.That(Run("--target=Copy", $"--from={_dev.Host}/team/sample-app:staging", $"--to={_prod.Host}/mirror/sample-app:copied",
            $"--result-file={resultFile}").ExitCode, Is.Zero, _runs[^1].ToString());
        var manifest = Path.Combine(_cake.WorkDirectory, "deploy", "deployment.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(manifest)!);
        await File.WriteAllTextAsync(manifest, "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: example.com/app:old\n");
        Assert.That(Run("--target=UpdateManifest", $"--manifest={manifest}", "--container=app", $"--image={_prod.Host}/team/sample-app:production").ExitCode, Is.Zero, _runs[^1].ToString());

        // Failing runs read secrets too: a refused password, and a GitOps step given a token it cannot use.
        var wrong = Run(new Dictionary<string, string?> { [CredentialStore.EnvironmentPrefix(_prod.Host) + "PASSWORD"] = WrongPassword },
            "--target=Copy", $"--from={_dev.Host}/team/sample-app:staging", $"--to={_prod.Host}/mirror/sample-app:refused");
        Assert.That(wrong.ExitCode, Is.Not.Zero);
        Assert.That(wrong.Output, Does.Contain("check the user name and password"));
        var gitops = Run("--target=PromoteProduction", "--exclusive", "--set", $"environments.production.gitops.repository={_cake.WorkDirectory}/no-such-gitops.git",
            "--set", "environments.production.gitops.manifests=apps/app.yaml");
        Assert.That(gitops.ExitCode, Is.Not.Zero);

        Assert.That(_port.Run("run-secrets")!.Status, Is.Not.EqualTo("IN_PROGRESS"), "Port reporting was on, so PORT_CLIENT_SECRET was used");
        var secrets = Secrets("dev-user", "prod-user").ToList();
        foreach (var run in _runs)
            foreach (var secret in secrets)
                Assert.That(run.Output, Does.Not.Contain(secret), $"./build.sh {run.Arguments} printed a secret");
        Assert.That(File.Exists(resultFile), Is.True);
        var files = Directory.EnumerateFiles(_cake.WorkDirectory, "*", SearchOption.AllDirectories).ToList();
        Assert.That(files.Count(f => f.StartsWith(_cake.ArtifactsDirectory, StringComparison.Ordinal)), Is.GreaterThan(3), "the artifacts directory was written");
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var secret in secrets)
                Assert.That(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)), Is.EqualTo(-1), $"{file} holds a secret");
        }
        TestContext.Progress.WriteLine($"secrets: {_runs.Count} build.sh runs at diagnostic verbosity, {files.Count} files scanned, {secrets.Count} secret forms, none found");
    }
}
