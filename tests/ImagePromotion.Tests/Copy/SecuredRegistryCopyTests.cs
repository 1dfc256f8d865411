using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// Registries as clouds run them: HTTPS with a private CA, and the Docker token protocol with scoped,
/// short-lived bearer tokens. The token server counts what the engine asked it for.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class SecuredRegistryCopyTests
{
    private CancellationTokenSource _timeout = null!;

    private CancellationToken Ct => _timeout.Token;

    [SetUp]
    public void SetUp() => _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));

    [TearDown]
    public void TearDown() => _timeout.Dispose();

    [Test]
    public async Task Https_registry_with_a_private_ca_is_trusted_through_the_ca_bundle()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.Anonymous().WithTls(), Ct);
        var image = await TestImages.PushRandomImageAsync(registry, "tls/app", "v1", layerCount: 1, cancellationToken: Ct);
        using var engine = new EngineHarness(options: EngineHarness.FastRetries with { CaBundles = new Dictionary<string, string> { [registry.Host] = registry.CaCertificatePath! } });

        var result = await engine.CopyAsync(registry.Reference("tls/app", "v1"), registry.Reference("tls/release", "v1"), ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.BlobsMounted, Is.EqualTo(image.Blobs.Count));
        using var raw = registry.CreateClient();
        Assert.That(await raw.GetManifestDigestAsync("tls/release", "v1", Ct), Is.EqualTo(image.Digest));
    }

    [Test]
    public async Task Https_registry_whose_ca_is_not_trusted_fails_naming_the_host_and_writes_nothing()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.Anonymous().WithTls(), Ct);
        await TestImages.PushRandomImageAsync(registry, "tls/app", "v1", layerCount: 1, cancellationToken: Ct);
        using var engine = new EngineHarness();
        await registry.ResetRequestLogAsync(Ct);

        var ex = Assert.CatchAsync<PromotionException>(() =>
            engine.CopyAsync(registry.Reference("tls/app", "v1"), registry.Reference("tls/release", "v1"), ct: Ct))!;

        Assert.That(ex.Message, Does.Contain(registry.Host));
        Assert.That(ex.Message, Does.Contain("certificate that is not trusted"));
        Assert.That(ex.Message, Does.Contain("CA certificate as a PEM bundle"), "says how to fix it");
        Assert.That(ex.Message, Does.Not.Contain("400"), "no fallback to plain HTTP against a TLS port");
        Assert.That(ex.Transient, Is.False);
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That((await registry.GetRequestsAsync(Ct)).Writes(), Is.Empty);
    }

    [Test]
    public void A_ca_bundle_path_that_does_not_exist_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-ca-" + Guid.NewGuid().ToString("N") + ".pem");

        var ex = Assert.Catch<PromotionException>(() => new RegistryTransport(new TransportOptions { CaBundles = new Dictionary<string, string> { ["registry.example.com"] = missing } }))!;

        Assert.That(ex.Message, Does.Contain($"'{missing}'"));
    }

    [Test]
    public async Task Token_auth_mount_asks_for_push_on_the_target_and_pull_on_the_source_and_learns_the_challenge_once()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.TokenAuth(), Ct);
        var tokens = registry.TokenServer!;
        var user = registry.Credentials!;
        var image = await TestImages.PushRandomImageAsync(registry, "dev/app", "abc", layerCount: 2, cancellationToken: Ct);
        using var engine = new EngineHarness(EngineHarness.Credentials(registry, user.UserName, user.Password));
        await registry.ResetRequestLogAsync(Ct);
        tokens.ResetRequests();

        var result = await engine.CopyAsync(registry.Reference("dev/app", "abc"), registry.Reference("prod/app", "abc"), ct: Ct);

        Assert.That(result.BlobsMounted, Is.EqualTo(image.Blobs.Count));
        Assert.That(result.BytesUploaded, Is.Zero);
        var seen = await registry.GetRequestsAsync(Ct);
        Assert.That(seen.Count(r => r.Status == 401), Is.EqualTo(1), seen.Show());
        Assert.That(seen.Where(r => r.Method == "POST").Select(r => r.Status), Is.All.EqualTo(201), seen.Show());
        var asked = tokens.Requests;
        Assert.That(asked.Select(r => r.Account), Is.All.EqualTo(user.UserName));
        Assert.That(asked.Select(r => r.Status), Is.All.EqualTo(200));
        Assert.That(asked.Where(r => r.Scopes.Contains("repository:prod/app:pull,push") && r.Scopes.Contains("repository:dev/app:pull")),
            Is.Not.Empty, "the mount token carries both scopes");
        // One token per scope set, reused across the blobs: source read, destination look-up, mounts, manifest push.
        Assert.That(asked, Has.Count.LessThanOrEqualTo(4), string.Join("; ", asked.Select(r => string.Join(' ', r.Scopes))));
        using var raw = registry.CreateClient();
        Assert.That(await raw.GetManifestDigestAsync("prod/app", "abc", Ct), Is.EqualTo(image.Digest));
    }

    [Test]
    public async Task An_expired_token_is_renewed_before_use_without_a_401_loop()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions { TokenLifetime = TimeSpan.FromSeconds(2) });
        await using var registry = await RegistryServer.StartAsync(options, Ct);
        var user = registry.Credentials!;
        var first = await TestImages.PushRandomImageAsync(registry, "dev/short", "v1", layerCount: 1, cancellationToken: Ct);
        var second = await TestImages.PushRandomImageAsync(registry, "dev/short", "v2", layerCount: 1, cancellationToken: Ct);
        using var engine = new EngineHarness(EngineHarness.Credentials(registry, user.UserName, user.Password));
        await engine.CopyAsync(registry.Reference("dev/short", "v1"), registry.Reference("prod/short", "v1"), ct: Ct);
        await Task.Delay(TimeSpan.FromSeconds(2.2), Ct);
        await registry.ResetRequestLogAsync(Ct);

        var result = await engine.CopyAsync(registry.Reference("dev/short", "v2"), registry.Reference("prod/short", "v2"), ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(second.Digest.ToString()));
        var seen = await registry.GetRequestsAsync(Ct);
        Assert.That(seen.Where(r => r.Status == 401), Is.Empty, "stale tokens are replaced before they are sent: " + seen.Show());
        Assert.That(first.Digest, Is.Not.EqualTo(second.Digest));
    }

    [Test]
    public async Task Missing_push_permission_is_reported_as_such_not_as_a_wrong_password()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions
        {
            Grants = [TokenGrant.PullPush(TokenGrant.AnyUser, "dev/*"), TokenGrant.PullOnly(TokenGrant.AnyUser, "prod/*")],
        });
        await using var registry = await RegistryServer.StartAsync(options, Ct);
        var user = registry.Credentials!;
        var image = await TestImages.PushRandomImageAsync(registry, "dev/app", "v1", layerCount: 1, cancellationToken: Ct);
        using var engine = new EngineHarness(EngineHarness.Credentials(registry, user.UserName, user.Password));
        await registry.ResetRequestLogAsync(Ct);

        var ex = Assert.CatchAsync<PromotionException>(() =>
            engine.CopyAsync(registry.Reference("dev/app", "v1"), registry.Reference("prod/app", "v1"), ct: Ct))!;

        Assert.That(ex.Message, Does.Contain("prod/app"));
        Assert.That(ex.Message, Does.Contain("may not push"));
        Assert.That(ex.Message, Does.Not.Contain("check the user name and password"));
        Assert.That(ex.Transient, Is.False);
        var seen = await registry.GetRequestsAsync(Ct);
        Assert.That(seen.Writes().Where(r => r.Status < 400), Is.Empty, seen.Show());
        // Each mount is tried with the cached token and once with a fresh one, then the copy stops before any manifest.
        Assert.That(seen.Count(r => r.Method == "POST"), Is.LessThanOrEqualTo(2 * image.Blobs.Count), seen.Show());
        Assert.That(seen.Where(r => r.Method == "PUT"), Is.Empty, seen.Show());
    }

    [Test]
    public async Task A_password_the_token_service_refuses_fails_once_without_showing_it()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.TokenAuth(), Ct);
        await TestImages.PushRandomImageAsync(registry, "dev/app", "v1", layerCount: 1, cancellationToken: Ct);
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        using var engine = new EngineHarness(EngineHarness.Credentials(registry, registry.Credentials!.UserName, wrong));
        registry.TokenServer!.ResetRequests();
        await registry.ResetRequestLogAsync(Ct);

        var ex = Assert.CatchAsync<PromotionException>(() =>
            engine.CopyAsync(registry.Reference("dev/app", "v1"), registry.Reference("prod/app", "v1"), ct: Ct))!;

        Assert.That(ex.Message, Does.Contain($"registry {registry.Host}"));
        Assert.That(ex.Message, Does.Contain("refused"));
        Assert.That(ex.Message, Does.Contain("check the user name and password"));
        Assert.That(ex.Message, Does.Not.Contain(wrong));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That(registry.TokenServer.RequestCount, Is.EqualTo(1), "a refused password is not tried again");
        Assert.That(await registry.GetRequestsAsync(Ct), Has.Count.EqualTo(1));
    }
}
