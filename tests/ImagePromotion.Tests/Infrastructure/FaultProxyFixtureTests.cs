using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Infrastructure;

[TestFixture]
public sealed class FaultProxyFixtureTests
{
    private const int LayerSize = 256 * 1024;
    private RegistryServer _registry = null!;
    private PushedImage _image = null!;
    private FaultProxy _proxy = null!;
    private HttpClient _http = null!;

    private PushedBlob Layer => _image.Layers[0];
    private string BlobPath => $"v2/app/blobs/{Layer.Digest}";

    [OneTimeSetUp]
    public async Task StartRegistry()
    {
        _registry = await RegistryServer.StartAsync();
        _image = await TestImages.PushRandomImageAsync(_registry, "app", "v1", layerCount: 1, layerSize: LayerSize);
    }

    [OneTimeTearDown]
    public async Task StopRegistry() => await _registry.DisposeAsync();

    [SetUp]
    public async Task StartProxy()
    {
        _proxy = await FaultProxy.StartAsync(_registry);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = _proxy.BaseUri, Timeout = TimeSpan.FromSeconds(20) };
    }

    [TearDown]
    public async Task StopProxy()
    {
        _http.Dispose();
        await _proxy.DisposeAsync();
    }

    [Test]
    public async Task Forwards_a_push_and_keeps_upload_sessions_on_the_proxy()
    {
        using var client = new RegistryTestClient(_proxy.BaseUri);
        var pushed = await TestImages.PushRandomImageAsync(client, "through-proxy", "v1", layerCount: 2, layerSize: 100_000);

        using var direct = _registry.CreateClient();
        Assert.That(await direct.GetManifestDigestAsync("through-proxy", "v1"), Is.EqualTo(pushed.Digest));
        var uploads = _proxy.Requests.Where(r => r.Method == "PUT" && r.PathAndQuery.Contains("/blobs/uploads/")).ToList();
        Assert.That(uploads, Has.Count.EqualTo(3), "two layers and the config were uploaded through the proxy");
        Assert.That(uploads.All(r => r.Status == 201));
        Assert.That(_proxy.Requests.All(r => r.Fault is null && !r.HadAuthorization));
    }

    [Test]
    public async Task Streams_a_chunked_patch_upload_with_content_range_through_the_proxy()
    {
        var blob = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300_000);
        using var start = await _http.PostAsync("v2/chunked/blobs/uploads/", null);
        Assert.That(start.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var location = start.Headers.Location!;
        Assert.That(new Uri(_proxy.BaseUri, location).Authority, Is.EqualTo(_proxy.Host));

        foreach (var (from, to) in new[] { (0, 199_999), (200_000, 299_999) })
        {
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location)
            {
                Content = new ByteArrayContent(blob, from, to - from + 1),
            };
            patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"{from}-{to}");
            using var accepted = await _http.SendAsync(patch);
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(accepted.Headers.GetValues("Range").Single(), Is.EqualTo($"0-{to}"));
            location = accepted.Headers.Location!;
        }
        var digest = Digest.Sha256(blob);
        using var done = await _http.PutAsync(location + "&digest=" + Uri.EscapeDataString(digest.ToString()), null);
        Assert.That(done.StatusCode, Is.EqualTo(HttpStatusCode.Created));

        using var direct = _registry.CreateClient();
        Assert.That(await direct.GetBlobAsync("chunked", digest), Is.EqualTo(blob));
    }

    [Test]
    public async Task Answers_429_with_retry_after_in_seconds_once_then_forwards()
    {
        var rule = _proxy.Inject("GET", "/manifests/", FaultAction.TooManyRequests(TimeSpan.FromSeconds(2)));

        using var limited = await GetManifest();
        Assert.That((int)limited.StatusCode, Is.EqualTo(429));
        Assert.That(limited.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(await limited.Content.ReadAsStringAsync(), Does.Contain("TOOMANYREQUESTS"));

        using var ok = await GetManifest();
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((rule.Matches, rule.Hits), Is.EqualTo((2, 1)));
    }

    [Test]
    public async Task Answers_429_with_retry_after_as_an_http_date()
    {
        var at = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        _proxy.Inject(null, "/manifests/", FaultAction.TooManyRequests(at));

        using var limited = await GetManifest();

        Assert.That(limited.Headers.RetryAfter!.Date, Is.EqualTo(at));
        Assert.That(limited.Headers.GetValues("Retry-After").Single(), Is.EqualTo("Wed, 02 Jan 2030 03:04:05 GMT"));
    }

    [TestCase(500)]
    [TestCase(502)]
    [TestCase(503)]
    public async Task Answers_server_errors_the_scripted_number_of_times_after_skipping(int status)
    {
        var rule = _proxy.Inject("GET", "/blobs/sha256:", FaultAction.Status(status), times: 2, skip: 1);

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await _http.GetAsync(BlobPath);
            statuses.Add((int)response.StatusCode);
        }

        Assert.That(statuses, Is.EqualTo(new[] { 200, status, status, 200 }));
        Assert.That(rule.Hits, Is.EqualTo(2));
        Assert.That(_proxy.Requests.Count(r => r.Fault is StatusFault), Is.EqualTo(2));
    }

    [Test]
    public async Task Does_not_apply_a_rule_to_another_method()
    {
        _proxy.Inject("HEAD", "/blobs/", FaultAction.Status(503), times: FaultProxy.Always);

        using var get = await _http.GetAsync(BlobPath);
        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, BlobPath));

        Assert.That(((int)get.StatusCode, (int)head.StatusCode), Is.EqualTo((200, 503)));
    }

    [Test]
    public async Task Resets_the_connection_halfway_through_a_blob()
    {
        _proxy.Inject("GET", "/blobs/", FaultAction.ResetAfter(LayerSize / 2));

        var (received, error) = await ReadBlobThroughProxy();

        Assert.That(error, Is.Not.Null, "the body must not end normally");
        Assert.That(received, Is.LessThanOrEqualTo(LayerSize / 2));
        using var retry = await _http.GetAsync(BlobPath);
        Assert.That(Digest.Sha256(await retry.Content.ReadAsByteArrayAsync()), Is.EqualTo(Layer.Digest), "the fault fired once");
    }

    [Test]
    public async Task Truncates_a_body_below_its_declared_length()
    {
        _proxy.Inject("GET", "/blobs/", FaultAction.Truncate(1000));

        using var response = await _http.GetAsync(BlobPath, HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(Layer.Size));
        var (received, error) = await Drain(response);

        Assert.That(error, Is.Not.Null);
        Assert.That(received, Is.LessThanOrEqualTo(1000));
    }

    [Test]
    public async Task Corrupts_exactly_one_byte_of_a_blob()
    {
        _proxy.Inject("GET", "/blobs/", FaultAction.CorruptByte());
        using var direct = _registry.CreateClient();
        var original = (await direct.GetBlobAsync("app", Layer.Digest))!;

        using var response = await _http.GetAsync(BlobPath);
        var corrupted = await response.Content.ReadAsByteArrayAsync();

        Assert.That(corrupted, Has.Length.EqualTo(original.Length));
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != corrupted[i]).ToList();
        Assert.That(differing, Is.EqualTo(new[] { original.Length / 2 }));
        Assert.That(Digest.Sha256(corrupted), Is.Not.EqualTo(Layer.Digest));
    }

    [Test]
    public async Task Stalls_before_answering()
    {
        _proxy.Inject("GET", "/manifests/", FaultAction.Stall(TimeSpan.FromSeconds(1.5)), times: 2);
        using var impatient = new HttpClient { BaseAddress = _proxy.BaseUri, Timeout = TimeSpan.FromMilliseconds(400) };

        Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync("v2/app/manifests/v1"));
        var watch = Stopwatch.StartNew();
        using var patient = await GetManifest();

        Assert.That(patient.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.4)));
    }

    [Test]
    public async Task Redirects_blob_gets_to_another_origin_that_records_headers()
    {
        _proxy.Inject("GET", "/blobs/sha256:", FaultAction.RedirectToBlobStorage(), times: FaultProxy.Always);

        using var request = new HttpRequestMessage(HttpMethod.Get, BlobPath);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "registry-token");
        using var redirect = await _http.SendAsync(request);
        Assert.That(redirect.StatusCode, Is.EqualTo(HttpStatusCode.TemporaryRedirect));
        var location = redirect.Headers.Location!;
        Assert.That(location.Port, Is.Not.EqualTo(_proxy.BaseUri.Port).And.Not.EqualTo(_registry.Port));
        Assert.That(location.Host, Is.EqualTo("127.0.0.1"));

        using var storage = new HttpClient();
        var bytes = await storage.GetByteArrayAsync(location);
        Assert.That(Digest.Sha256(bytes), Is.EqualTo(Layer.Digest));
        using var leaky = new HttpRequestMessage(HttpMethod.Get, location);
        leaky.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "registry-token");
        (await storage.SendAsync(leaky)).Dispose();

        Assert.That(_proxy.BlobStorage.Requests.Select(r => r.HadAuthorization), Is.EqualTo(new[] { false, true }));
        Assert.That(_proxy.Requests.Single().HadAuthorization, Is.True);
    }

    [Test]
    public async Task Adds_fixed_latency_to_every_request()
    {
        _proxy.Latency = TimeSpan.FromMilliseconds(40);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++) (await _http.GetAsync("v2/")).Dispose();
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(5 * 40)));
        Assert.That(_proxy.RequestCount, Is.EqualTo(5));
    }

    [Test]
    public async Task Answers_502_while_the_upstream_registry_is_down()
    {
        await using var registry = await RegistryServer.StartAsync();
        await using var proxy = await FaultProxy.StartAsync(registry);
        using var http = new HttpClient { BaseAddress = proxy.BaseUri };

        await registry.StopAsync();
        using var down = await http.GetAsync("v2/");
        await registry.RestartAsync();
        using var up = await http.GetAsync("v2/");

        Assert.That(((int)down.StatusCode, (int)up.StatusCode), Is.EqualTo((502, 200)));
    }

    private async Task<HttpResponseMessage> GetManifest()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/app/manifests/v1");
        request.Headers.Accept.ParseAdd(TestImages.OciManifest);
        return await _http.SendAsync(request);
    }

    private async Task<(long Received, Exception? Error)> ReadBlobThroughProxy()
    {
        using var response = await _http.GetAsync(BlobPath, HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return await Drain(response);
    }

    private static async Task<(long Received, Exception? Error)> Drain(HttpResponseMessage response)
    {
        long received = 0;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[8192];
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0) received += read;
            return (received, null);
        }
        catch (Exception e) when (e is IOException or HttpRequestException) { return (received, e); }
    }
}
