using System.Diagnostics;
using ImagePromotion.Logging;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// Reaching a registry: Basic auth (htpasswd, bcrypt) with credentials from the CI environment, a wrong
/// password that fails once and clearly without leaking it, and a registry that is not there at all.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class RegistryAccessFailureTests
{
    private const string User = "promoter";
    private static readonly string Password = "pw-" + Guid.NewGuid().ToString("N");

    private RegistryServer _dev = null!;
    private RegistryServer _locked = null!;
    private RegistryTestClient _lockedRaw = null!;
    private CancellationTokenSource _timeout = null!;

    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task StartRegistries()
    {
        var dev = RegistryServer.StartAsync();
        var locked = RegistryServer.StartAsync(RegistryServerOptions.BasicAuth(User, Password));
        _dev = await dev;
        _locked = await locked;
        _lockedRaw = _locked.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopRegistries()
    {
        _lockedRaw.Dispose();
        await _dev.DisposeAsync();
        await _locked.DisposeAsync();
    }

    [SetUp]
    public void SetUp() => _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

    [TearDown]
    public void TearDown() => _timeout.Dispose();

    [Test]
    public async Task Basic_auth_credentials_from_the_environment_push_and_pull()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "auth/app", "v1", layerCount: 2, cancellationToken: Ct);
        using var engine = new EngineHarness(EngineHarness.Credentials(_locked, User, Password));
        await _locked.ResetRequestLogAsync(Ct);

        var pushed = await engine.CopyAsync(_dev.Reference("auth/app", "v1"), _locked.Reference("auth/app", "v1"), ct: Ct);
        // Back out again: the locked registry as a source, its blobs streamed to the open one.
        var pulled = await engine.CopyAsync(_locked.Reference("auth/app", "v1"), _dev.Reference("auth/copy", "v1"), ct: Ct);

        Assert.That(pushed.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(pushed.BlobsCopied, Is.EqualTo(image.Blobs.Count));
        Assert.That(pulled.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        // The challenge is learned once per host; every later request is authenticated up front.
        var seen = await _locked.GetRequestsAsync(Ct);
        Assert.That(seen.Count(r => r.Status == 401), Is.EqualTo(1), seen.Show());
        Assert.That(seen, Has.Count.EqualTo(pushed.Requests[_locked.Host] + pulled.Requests[_locked.Host]), seen.Show());
        Assert.That(engine.Log.Lines, Has.None.Contains(Password));
        Assert.That(await _lockedRaw.GetManifestDigestAsync("auth/app", "v1", Ct), Is.EqualTo(image.Digest));
    }

    [Test]
    public async Task A_wrong_password_fails_once_in_one_line_that_does_not_contain_it()
    {
        await TestImages.PushRandomImageAsync(_dev, "deny/app", "v1", layerCount: 1, cancellationToken: Ct);
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        using var engine = new EngineHarness(EngineHarness.Credentials(_locked, User, wrong));
        await _locked.ResetRequestLogAsync(Ct);

        var ex = Assert.CatchAsync<PromotionException>(() =>
            engine.CopyAsync(_dev.Reference("deny/app", "v1"), _locked.Reference("deny/app", "v1"), ct: Ct))!;

        Assert.That(ex.Message, Does.Contain($"registry {_locked.Host}"));
        Assert.That(ex.Message, Does.Contain("401"));
        Assert.That(ex.Message, Does.Contain(CredentialStore.EnvironmentPrefix(_locked.Host) + "USERNAME"), "says which credential was refused");
        Assert.That(ex.Message, Does.Contain("check the user name and password"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That(ex.Message, Does.Not.Contain(wrong));
        Assert.That(ex.Message, Does.Not.Contain(Password));
        Assert.That(ex.Transient, Is.False, "a refused password does not get better by retrying");
        Assert.That(SecretRedactor.Shared.Redact(wrong), Is.EqualTo("***"));
        // One request to learn the challenge, one with the credentials; then it stops.
        var seen = await _locked.GetRequestsAsync(Ct);
        Assert.That(seen, Has.Count.LessThanOrEqualTo(2), seen.Show());
        Assert.That(seen.Select(r => r.Status), Is.All.EqualTo(401));
        Assert.That(await _lockedRaw.HeadManifestAsync("deny/app", "v1", Ct), Is.Null);
    }

    [Test]
    public async Task No_credentials_for_a_locked_registry_names_the_variables_to_set()
    {
        await TestImages.PushRandomImageAsync(_locked, "anon/app", "v1", layerCount: 1, cancellationToken: Ct);
        using var engine = new EngineHarness();
        await _locked.ResetRequestLogAsync(Ct);

        var ex = Assert.CatchAsync<PromotionException>(() =>
            engine.CopyAsync(_locked.Reference("anon/app", "v1"), _dev.Reference("anon/app", "v1"), ct: Ct))!;

        var prefix = CredentialStore.EnvironmentPrefix(_locked.Host);
        Assert.That(ex.Message, Does.Contain($"no credentials were found for {_locked.Host}"));
        Assert.That(ex.Message, Does.Contain(prefix + "USERNAME").And.Contain(prefix + "PASSWORD"));
        Assert.That(await _locked.GetRequestsAsync(Ct), Has.Count.EqualTo(1), "without credentials there is nothing to retry with");
    }

    [Test]
    public void An_unreachable_registry_fails_in_bounded_time_with_one_line_naming_the_host()
    {
        var closed = $"127.0.0.1:{FreePort.Pick()}"; // bound and released: nothing listens there
        using var engine = new EngineHarness();
        var clock = Stopwatch.StartNew();

        var ex = Assert.CatchAsync<PromotionException>(() =>
            engine.CopyAsync($"{closed}/gone/app:v1", _dev.Reference("gone/app", "v1"), ct: Ct))!;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "bounded retries, then a clear failure");
        Assert.That(ex.Message, Does.StartWith($"cannot reach registry {closed}"));
        Assert.That(ex.Message, Does.Contain("check that it is running"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That(ex.InnerException, Is.InstanceOf<HttpRequestException>());
    }
}
