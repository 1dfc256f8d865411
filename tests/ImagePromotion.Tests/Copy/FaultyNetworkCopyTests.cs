using System.Diagnostics;
using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// The network between registries misbehaves the way clouds do: rate limits, 5xx, resets and truncation
/// mid-blob, corrupted bytes, stalls, and blob reads redirected to storage on another host. A streaming
/// proxy in front of a real registry injects each fault; the copy either recovers with the digest intact
/// or stops with one line and no tag.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class FaultyNetworkCopyTests
{
    private const int LayerSize = 200 * 1024;
    private const string User = "puller";
    private static readonly string Password = "pw-" + Guid.NewGuid().ToString("N");

    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private RegistryTestClient _prodRaw = null!;
    private FaultProxy _proxy = null!;
    private CancellationTokenSource _timeout = null!;
    private int _n;

    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task StartRegistries()
    {
        var dev = RegistryServer.StartAsync(RegistryServerOptions.BasicAuth(User, Password));
        var prod = RegistryServer.StartAsync();
        _dev = await dev;
        _prod = await prod;
        _prodRaw = _prod.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopRegistries()
    {
        _prodRaw.Dispose();
        await _dev.DisposeAsync();
        await _prod.DisposeAsync();
    }

    [SetUp]
    public async Task SetUp()
    {
        _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _proxy = await FaultProxy.StartAsync(_dev, Ct);
    }

    [TearDown]
    public async Task TearDown()
    {
        await _proxy.DisposeAsync();
        _timeout.Dispose();
    }

    /// <summary>A fresh image in dev, and the source/destination references of its promotion through the proxy.</summary>
    private async Task<(PushedImage Image, string From, string To)> ImageAsync(int layers = 1)
    {
        var repository = $"faulty/app{Interlocked.Increment(ref _n)}";
        var image = await TestImages.PushRandomImageAsync(_dev, repository, "v1", layerCount: layers, layerSize: LayerSize, cancellationToken: Ct);
        return (image, $"{_proxy.Host}/{repository}:v1", _prod.Reference(repository, "v1"));
    }

    /// <summary>The dev registry is reached through the proxy, so its credentials are filed under the proxy's host.</summary>
    private EngineHarness Engine(TransportOptions? options = null)
    {
        var env = new Dictionary<string, string?>
        {
            [CredentialStore.EnvironmentPrefix(_proxy.Host) + "USERNAME"] = User,
            [CredentialStore.EnvironmentPrefix(_proxy.Host) + "PASSWORD"] = Password,
        };
        return new EngineHarness(env, options);
    }

    private async Task AssertArrivedAsync(PushedImage image, CopyResult result)
    {
        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.BytesUploaded, Is.EqualTo(image.Blobs.Sum(b => b.Size)), "a retried blob is counted once");
        var repository = image.Repository;
        Assert.That(await _prodRaw.GetManifestDigestAsync(repository, "v1", Ct), Is.EqualTo(image.Digest));
        foreach (var blob in image.Blobs)
        {
            var bytes = await _prodRaw.GetBlobAsync(repository, blob.Digest, Ct);
            Assert.That(Digest.Sha256(bytes!), Is.EqualTo(blob.Digest));
        }
    }

    [Test]
    public async Task A_429_on_the_manifest_read_is_waited_out_for_its_Retry_After()
    {
        var (image, from, to) = await ImageAsync();
        var rule = _proxy.Inject("GET", "/manifests/", FaultAction.TooManyRequests(TimeSpan.FromSeconds(1)));
        using var engine = Engine();
        var clock = Stopwatch.StartNew();

        var result = await engine.CopyAsync(from, to, ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(1));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(0.95)), "Retry-After, not the 20 ms backoff");
        await AssertArrivedAsync(image, result);
    }

    [Test]
    public async Task A_Retry_After_beyond_the_limit_is_reported_at_once_not_waited()
    {
        var (_, from, to) = await ImageAsync();
        _proxy.Inject("GET", "/manifests/", FaultAction.TooManyRequests(TimeSpan.FromMinutes(10)), times: FaultProxy.Always);
        using var engine = Engine();
        var clock = Stopwatch.StartNew();

        var ex = Assert.CatchAsync<PromotionException>(() => engine.CopyAsync(from, to, ct: Ct))!;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(ex.Message, Does.Contain($"registry {_proxy.Host}"));
        Assert.That(ex.Message, Does.Contain("429"));
        Assert.That(ex.Message, Does.Contain("rate-limiting"));
        Assert.That(ex.Transient, Is.True);
    }

    [Test]
    public async Task Server_errors_on_blob_reads_are_retried()
    {
        var (image, from, to) = await ImageAsync();
        var rule = _proxy.Inject("GET", "/blobs/sha256:", FaultAction.Status(503), times: 2);
        using var engine = Engine();

        var result = await engine.CopyAsync(from, to, ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(2));
        await AssertArrivedAsync(image, result);
    }

    [Test]
    public async Task A_connection_reset_mid_blob_restarts_the_transfer_from_a_new_read()
    {
        var (image, from, to) = await ImageAsync();
        var layer = image.Layers[0].Digest;
        var rule = _proxy.Inject("GET", $"/blobs/{layer}", FaultAction.ResetAfter(LayerSize / 2));
        using var engine = Engine();

        var result = await engine.CopyAsync(from, to, ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(1));
        Assert.That(_proxy.Requests.Count(r => r.Method == "GET" && r.PathAndQuery.EndsWith(layer.ToString())), Is.EqualTo(2));
        Assert.That(result.BlobsCopied, Is.EqualTo(image.Blobs.Count));
        await AssertArrivedAsync(image, result);
    }

    [Test]
    public async Task A_truncated_blob_is_read_again()
    {
        var (image, from, to) = await ImageAsync();
        var rule = _proxy.Inject("GET", $"/blobs/{image.Layers[0].Digest}", FaultAction.Truncate(1000));
        using var engine = Engine();

        var result = await engine.CopyAsync(from, to, ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(1));
        await AssertArrivedAsync(image, result);
    }

    [Test]
    public async Task A_blob_that_always_arrives_corrupted_never_lands_and_nothing_is_tagged()
    {
        var (image, from, to) = await ImageAsync();
        var layer = image.Layers[0].Digest;
        var rule = _proxy.Inject("GET", $"/blobs/{layer}", FaultAction.CorruptByte(), times: FaultProxy.Always);
        using var engine = Engine();

        var ex = Assert.CatchAsync<PromotionException>(() => engine.CopyAsync(from, to, new CopyOptions { BlobAttempts = 3 }, Ct))!;

        Assert.That(rule.Hits, Is.EqualTo(3), "every attempt re-read the blob, then it stopped");
        Assert.That(ex.Message, Does.Contain(layer.ToString()));
        Assert.That(ex.Message, Does.Contain("hashing to sha256:"));
        Assert.That(ex.Message, Does.Contain("nothing was tagged"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That(await _prodRaw.HeadManifestAsync(image.Repository, "v1", Ct), Is.Null);
        Assert.That(await _prodRaw.BlobExistsAsync(image.Repository, layer, Ct), Is.False);
    }

    [Test]
    public async Task Blob_reads_redirected_to_storage_on_another_host_carry_no_credentials()
    {
        var (image, from, to) = await ImageAsync(layers: 2);
        var rule = _proxy.Inject("GET", "/blobs/sha256:", FaultAction.RedirectToBlobStorage(), times: FaultProxy.Always);
        using var engine = Engine();

        var result = await engine.CopyAsync(from, to, ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(image.Blobs.Count));
        var storage = _proxy.BlobStorage.Requests;
        Assert.That(storage, Has.Count.EqualTo(image.Blobs.Count));
        Assert.That(storage.Select(r => r.HadAuthorization), Is.All.False, "the registry's credentials stay with the registry");
        Assert.That(_proxy.Requests.Where(r => r.Fault is RedirectFault).Select(r => r.HadAuthorization), Is.All.True);
        await AssertArrivedAsync(image, result);
    }

    [Test]
    public async Task A_stalled_answer_is_given_up_on_and_asked_again()
    {
        var (image, from, to) = await ImageAsync();
        var rule = _proxy.Inject("GET", "/manifests/", FaultAction.Stall(TimeSpan.FromSeconds(10)));
        using var engine = Engine(EngineHarness.FastRetries with { ResponseHeadersTimeout = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();

        var result = await engine.CopyAsync(from, to, ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(1));
        Assert.That(clock.Elapsed, Is.InRange(TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8)));
        await AssertArrivedAsync(image, result);
    }

    [Test]
    public async Task A_failed_streamed_upload_restarts_whole_in_a_new_upload_session()
    {
        var image = await TestImages.PushRandomImageAsync(_prod, "upfault/src", "v1", layerCount: 1, layerSize: LayerSize, cancellationToken: Ct);
        await using var prodProxy = await FaultProxy.StartAsync(_prod, Ct);
        var rule = prodProxy.Inject("PUT", "/blobs/uploads/", FaultAction.Status(500));
        using var engine = new EngineHarness();

        // From the registry itself to the proxied name of the same storage: the engine sees two registries.
        var result = await engine.CopyAsync(_prod.Reference("upfault/src", "v1"), $"{prodProxy.Host}/upfault/dst:v1", ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(1));
        Assert.That(result.BlobsCopied, Is.EqualTo(image.Blobs.Count));
        var starts = prodProxy.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.Contains("/blobs/uploads/"));
        Assert.That(starts, Is.EqualTo(image.Blobs.Count + 1), "the failed upload got a new session");
        Assert.That(result.BytesUploaded, Is.EqualTo(image.Blobs.Sum(b => b.Size)));
        Assert.That(await _prodRaw.GetManifestDigestAsync("upfault/dst", "v1", Ct), Is.EqualTo(image.Digest));
    }

    [Test]
    public async Task A_manifest_put_that_fails_once_is_sent_again()
    {
        var image = await TestImages.PushRandomImageAsync(_prod, "putfault/src", "v1", layerCount: 1, cancellationToken: Ct);
        await using var prodProxy = await FaultProxy.StartAsync(_prod, Ct);
        var rule = prodProxy.Inject("PUT", "/manifests/", FaultAction.Status(503));
        using var engine = new EngineHarness();

        var result = await engine.CopyAsync(_prod.Reference("putfault/src", "v1"), $"{prodProxy.Host}/putfault/dst:v1", ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(1));
        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(await _prodRaw.GetManifestDigestAsync("putfault/dst", "v1", Ct), Is.EqualTo(image.Digest));
    }
}
