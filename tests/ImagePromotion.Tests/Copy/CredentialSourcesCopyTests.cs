using System.Text;
using System.Text.Json;
using ImagePromotion.Logging;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// Every way a developer or CI job hands the engine a credential, end to end against a token-auth
/// registry: a Docker config <c>identitytoken</c> (OAuth2 refresh grant), a credential helper executable,
/// and a ready bearer token in <c>REGISTRY_&lt;HOST&gt;_TOKEN</c>.
/// </summary>
[TestFixture, NonParallelizable] // the credential-helper test puts a directory on the process PATH
public sealed class CredentialSourcesCopyTests
{
    private RegistryServer _registry = null!;
    private PushedImage _image = null!;
    private string _dir = null!;
    private CancellationTokenSource _timeout = null!;
    private int _n;

    private CancellationToken Ct => _timeout.Token;
    private TokenServer Tokens => _registry.TokenServer!;

    [OneTimeSetUp]
    public async Task StartRegistry()
    {
        _registry = await RegistryServer.StartAsync(RegistryServerOptions.TokenAuth());
        _image = await TestImages.PushRandomImageAsync(_registry, "dev/app", "v1", layerCount: 1);
    }

    [OneTimeTearDown]
    public async Task StopRegistry() => await _registry.DisposeAsync();

    [SetUp]
    public void SetUp()
    {
        _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _dir = Path.Combine(Path.GetTempPath(), "imgpromo-credsrc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        Tokens.ResetRequests();
    }

    [TearDown]
    public void TearDown()
    {
        _timeout.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Target() => _registry.Reference($"prod/app{Interlocked.Increment(ref _n)}", "v1");

    private Dictionary<string, string?> DockerConfig(object config)
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), JsonSerializer.Serialize(config));
        return new Dictionary<string, string?> { ["DOCKER_CONFIG"] = _dir };
    }

    private async Task AssertCopiedAsync(EngineHarness engine, string target)
    {
        var result = await engine.CopyAsync(_registry.Reference("dev/app", "v1"), target, ct: Ct);
        Assert.That(result.DestinationDigest, Is.EqualTo(_image.Digest.ToString()));
        Assert.That(result.BlobsMounted, Is.EqualTo(_image.Blobs.Count));
    }

    [Test]
    public async Task Identity_token_from_docker_config_is_exchanged_with_the_refresh_token_grant()
    {
        var refresh = Tokens.IssueRefreshToken(_registry.Credentials!.UserName);
        var env = DockerConfig(new
        {
            auths = new Dictionary<string, object>
            {
                [_registry.Host] = new { auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("<token>:")), identitytoken = refresh },
            },
        });
        using var engine = new EngineHarness(env);

        await AssertCopiedAsync(engine, Target());

        Assert.That(Tokens.Requests, Is.Not.Empty);
        Assert.That(Tokens.Requests.Select(r => (r.Method, r.GrantType, r.Status)), Is.All.EqualTo(("POST", "refresh_token", 200)));
        Assert.That(Tokens.Requests.Select(r => r.Account), Is.All.EqualTo(_registry.Credentials.UserName));
        Assert.That(SecretRedactor.Shared.Redact(refresh), Is.EqualTo("***"));
    }

    [Test]
    public async Task Credential_helper_named_by_credsStore_supplies_the_password()
    {
        var user = _registry.Credentials!;
        var bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        var helper = Path.Combine(bin, "docker-credential-imgpromo-test");
        var asked = Path.Combine(_dir, "asked.log");
        File.WriteAllText(helper, $$"""
            #!/bin/sh
            server=$(cat)
            echo "$1 $server" >> '{{asked}}'
            printf '{"ServerURL":"%s","Username":"{{user.UserName}}","Secret":"{{user.Password}}"}' "$server"
            """.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var env = DockerConfig(new { credsStore = "imgpromo-test" });
        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", bin + Path.PathSeparator + path);
        try
        {
            using var engine = new EngineHarness(env);

            await AssertCopiedAsync(engine, Target());
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }

        Assert.That(File.ReadAllLines(asked), Is.EqualTo(new[] { $"get {_registry.Host}" }), "asked once, for this registry");
        Assert.That(Tokens.Requests.Select(r => (r.Method, r.Account, r.Status)), Is.All.EqualTo(("GET", user.UserName, 200)));
    }

    [Test]
    public async Task A_ready_bearer_token_in_the_environment_is_sent_as_is()
    {
        var target = Target();
        var targetRepository = target[(target.IndexOf('/') + 1)..target.LastIndexOf(':')];
        var token = Tokens.MintToken(_registry.Credentials!.UserName,
            ["repository:dev/app:pull", $"repository:{targetRepository}:pull,push"]);
        using var engine = new EngineHarness(new Dictionary<string, string?>
        {
            [CredentialStore.EnvironmentPrefix(_registry.Host) + "TOKEN"] = token,
        });
        await _registry.ResetRequestLogAsync(Ct);

        await AssertCopiedAsync(engine, target);

        Assert.That(Tokens.Requests, Is.Empty, "no token service round trips");
        var seen = await _registry.GetRequestsAsync(Ct);
        Assert.That(seen.Where(r => r.Status == 401), Is.Empty, seen.Show());
    }
}
