using System.Text;
using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// A broken or hostile registry must not get credentials it was not given, trust it was not given, our
/// memory, our time, or a trail of abandoned upload sessions.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class HostileRegistryTests
{
    private const string User = "promoter";
    private static readonly string Password = "pw-" + Guid.NewGuid().ToString("N");
    private CancellationTokenSource _timeout = null!;

    private CancellationToken Ct => _timeout.Token;

    [SetUp]
    public void SetUp() => _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

    [TearDown]
    public void TearDown() => _timeout.Dispose();

    [Test]
    public async Task A_redirect_target_asking_for_a_token_of_its_own_gets_no_credentials()
    {
        await using var dev = await RegistryServer.StartAsync(RegistryServerOptions.BasicAuth(User, Password), Ct);
        await using var prod = await RegistryServer.StartAsync(cancellationToken: Ct);
        await TestImages.PushRandomImageAsync(dev, "leak/app", "v1", layerCount: 1, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(dev, Ct);
        await using var attacker = await BlobStorageServer.StartAsync(Ct);
        proxy.Inject("GET", "/blobs/sha256:", FaultAction.RedirectToBlobStorage(), FaultProxy.Always);
        proxy.BlobStorage.Challenge = $"Bearer realm=\"{attacker.BaseUri}token\",service=\"storage\"";
        using var engine = new EngineHarness(EngineHarness.Credentials(proxy.Host, User, Password));

        var ex = Assert.CatchAsync<PromotionException>(() => engine.CopyAsync($"{proxy.Host}/leak/app:v1", prod.Reference("leak/app", "v1"), ct: Ct))!;

        Assert.That(attacker.Requests, Is.Empty, "the storage's own realm is never asked for a token with our credentials");
        Assert.That(proxy.BlobStorage.Requests.Select(r => r.HadAuthorization), Is.All.False);
        Assert.That(ex.Message, Does.Contain("401"));
        Assert.That(ex.Message, Does.Not.Contain(Password));
    }

    [Test]
    public async Task Each_ca_bundle_vouches_for_its_own_registry_only()
    {
        // a and b share the run's CA; c has one of its own. Only a's and c's bundles are given.
        await using var a = await RegistryServer.StartAsync(RegistryServerOptions.Anonymous().WithTls(), Ct);
        await using var b = await RegistryServer.StartAsync(RegistryServerOptions.Anonymous().WithTls(), Ct);
        await using var c = await RegistryServer.StartAsync(RegistryServerOptions.Anonymous().WithTls() with { OwnCertificateAuthority = true }, Ct);
        var image = await TestImages.PushRandomImageAsync(a, "tls/app", "v1", layerCount: 1, cancellationToken: Ct);
        using var engine = new EngineHarness(options: EngineHarness.FastRetries with
        {
            CaBundles = new Dictionary<string, string> { [a.Host] = a.CaCertificatePath!, [c.Host] = c.CaCertificatePath! },
        });

        var toC = await engine.CopyAsync(a.Reference("tls/app", "v1"), c.Reference("tls/app", "v1"), ct: Ct);
        var toB = Assert.CatchAsync<PromotionException>(() => engine.CopyAsync(a.Reference("tls/app", "v1"), b.Reference("tls/app", "v1"), ct: Ct))!;

        Assert.That(toC.DestinationDigest, Is.EqualTo(image.Digest.ToString()), "the second registry's own bundle is used");
        Assert.That(toB.Message, Does.Contain(b.Host).And.Contain("not trusted"), "a's CA does not vouch for b, though it signed b's certificate");
        using var bRaw = b.CreateClient();
        Assert.That(await bRaw.HeadManifestAsync("tls/app", "v1", Ct), Is.Null);
    }

    [Test]
    public async Task A_token_response_that_never_ends_is_cut_off_at_its_limit()
    {
        await using var registry = await LoopbackWebHost.StartAsync(async context =>
        {
            if (context.Request.Path.StartsWithSegments("/token")) { await EndlessAsync(context, "{\"token\":\""); return; }
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{context.Request.Host}/token\",service=\"endless\"";
        }, Ct);
        using var engine = new EngineHarness();

        var ex = Assert.CatchAsync<PromotionException>(() => engine.CopyAsync($"{registry.Host}/endless/app:v1", "127.0.0.1:1/x/y:v1", ct: Ct))!;

        Assert.That(ex.Message, Does.Contain($"over the {BodyLimits.Token}-byte limit"));
        Assert.That(ex.Message, Does.Contain(registry.Host));
    }

    [Test]
    public async Task A_config_blob_that_never_ends_is_refused_past_its_descriptor_size()
    {
        await using var registry = await LoopbackWebHost.StartAsync(context => EndlessAsync(context, "{\"config\":"), Ct);
        using var engine = new EngineHarness();
        var config = new Descriptor(TestImages.OciConfig, Digest.Sha256("{}"u8), 1000);

        var ex = Assert.CatchAsync<PromotionException>(() => engine.Copier.Client(registry.Host).ReadBlobAsync("endless/app", config, BodyLimits.Config, Ct))!;

        Assert.That(ex.Message, Does.Contain("over the 1000-byte limit"));
    }

    [Test]
    public async Task A_manifest_that_drips_and_stops_fails_after_the_idle_timeout_naming_the_registry()
    {
        await using var registry = await LoopbackWebHost.StartAsync(async context =>
        {
            context.Response.ContentType = TestImages.OciManifest;
            await context.Response.WriteAsync("{\"schemaVersion\":", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }, Ct);
        using var engine = new EngineHarness(options: EngineHarness.FastRetries with { BodyIdleTimeout = TimeSpan.FromMilliseconds(500) });

        var ex = Assert.CatchAsync<RegistryException>(() => engine.CopyAsync($"{registry.Host}/drip/app:v1", "127.0.0.1:1/x/y:v1", ct: Ct))!;

        Assert.That(ex.Message, Does.Contain($"{registry.Host} sent nothing for 500 ms"));
        Assert.That(ex.Status, Is.Null, "no complete answer");
        Assert.That(ex.Transient, Is.True);
    }

    [Test]
    public async Task Storage_full_opens_a_bounded_number_of_sessions_and_leaves_none_behind()
    {
        await using var dev = await RegistryServer.StartAsync(cancellationToken: Ct);
        await using var prod = await RegistryServer.StartAsync(cancellationToken: Ct);
        var image = await TestImages.PushRandomImageAsync(dev, "full/app", "v1", layerCount: 6, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(prod, Ct);
        proxy.Inject("PUT", "/blobs/uploads/", FaultAction.Status(500, "UNKNOWN"), FaultProxy.Always);
        var options = new CopyOptions { MaxParallelism = 2, BlobAttempts = 4 };
        using var engine = new EngineHarness(defaults: options);

        var ex = Assert.CatchAsync<PromotionException>(() => engine.CopyAsync(dev.Reference("full/app", "v1"), $"{proxy.Host}/full/app:v1", ct: Ct))!;

        var sessions = proxy.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.Contains("/blobs/uploads/"));
        Assert.That(sessions, Is.LessThanOrEqualTo(2 * options.MaxParallelism),
            $"{image.Blobs.Count} blobs x {options.BlobAttempts} attempts would be {image.Blobs.Count * options.BlobAttempts} sessions");
        Assert.That(proxy.Requests.Count(r => r.Method == "DELETE" && r.PathAndQuery.Contains("/blobs/uploads/")), Is.EqualTo(sessions), "every failed session was cancelled");
        var uploads = Path.Combine(prod.StorageDirectory, "docker", "registry", "v2", "repositories", "full", "app", "_uploads");
        // distribution keeps an empty hashstates folder of a cancelled session; a live one has its startedat file.
        Assert.That(Directory.Exists(uploads) ? Directory.GetFiles(uploads, "startedat", SearchOption.AllDirectories) : [], Is.Empty,
            "no live upload session left in the registry's storage");
        Assert.That(ex.Message, Does.Contain("500").And.Contain("UNKNOWN"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public async Task A_refused_upload_is_not_retried()
    {
        await using var dev = await RegistryServer.StartAsync(cancellationToken: Ct);
        await using var prod = await RegistryServer.StartAsync(cancellationToken: Ct);
        await TestImages.PushRandomImageAsync(dev, "denied/app", "v1", layerCount: 2, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(prod, Ct);
        proxy.Inject("PUT", "/blobs/uploads/", FaultAction.Status(403, "DENIED"), FaultProxy.Always);
        using var engine = new EngineHarness(defaults: new CopyOptions { MaxParallelism = 1 });

        var ex = Assert.CatchAsync<RegistryException>(() => engine.CopyAsync(dev.Reference("denied/app", "v1"), $"{proxy.Host}/denied/app:v1", ct: Ct))!;

        Assert.That(ex.ErrorCode, Is.EqualTo(RegistryErrorCodes.Denied));
        Assert.That(ex.Operation, Is.EqualTo(RegistryOperation.CompleteUpload));
        Assert.That(ex.Repository, Is.EqualTo("denied/app"));
        Assert.That(ex.IsRefusal, Is.True);
        Assert.That(proxy.Requests.Count(r => r.Method == "PUT"), Is.EqualTo(1));
        Assert.That(proxy.Requests.Count(r => r.Method == "DELETE"), Is.EqualTo(1));
    }

    /// <summary>A chunked 200 answer that starts with <paramref name="prefix"/> and never ends.</summary>
    private static async Task EndlessAsync(HttpContext context, string prefix)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(prefix, context.RequestAborted);
        var chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        while (!context.RequestAborted.IsCancellationRequested)
            await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
    }
}
