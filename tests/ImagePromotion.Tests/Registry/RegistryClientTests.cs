using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

/// <summary>The raw distribution API calls, against a real registry.</summary>
[TestFixture, NonParallelizable]
public sealed class RegistryClientTests
{
    private RegistryServer _registry = null!;
    private RegistryTransport _transport = null!;
    private RegistryClient _client = null!;
    private PushedImage _image = null!;
    private CancellationTokenSource _timeout = null!;

    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task Start()
    {
        _registry = await RegistryServer.StartAsync();
        _image = await TestImages.PushRandomImageAsync(_registry, "raw/app", "v1", layerCount: 2);
        _transport = new RegistryTransport(new TransportOptions(),
            new CredentialStore(new Dictionary<string, string?> { ["DOCKER_CONFIG"] = Path.Combine(Path.GetTempPath(), "imgpromo-none-" + Guid.NewGuid().ToString("N")) }));
        _client = new RegistryClient(_transport, _registry.Host);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _transport.Dispose();
        await _registry.DisposeAsync();
    }

    [SetUp]
    public void SetUp() => _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

    [TearDown]
    public void TearDown() => _timeout.Dispose();

    [Test]
    public async Task Head_resolves_a_tag_to_digest_media_type_and_size_and_a_missing_tag_to_null()
    {
        var head = await _client.HeadManifestAsync("raw/app", "v1", Ct);

        Assert.That(head, Is.EqualTo(new Descriptor(_image.MediaType, _image.Digest, _image.ManifestBytes.Length)));
        Assert.That(await _client.HeadManifestAsync("raw/app", "nope", Ct), Is.Null);
        Assert.That(await _client.HeadManifestAsync("raw/never-pushed", "v1", Ct), Is.Null);
    }

    [Test]
    public async Task Get_returns_the_bytes_as_pushed_by_tag_and_by_digest()
    {
        var byTag = await _client.GetManifestAsync("raw/app", "v1", null, Ct);
        var byDigest = await _client.GetManifestAsync("raw/app", _image.Digest.ToString(), null, Ct);

        Assert.That(byTag!.Bytes, Is.EqualTo(_image.ManifestBytes));
        Assert.That(byTag.Digest, Is.EqualTo(_image.Digest));
        Assert.That(byDigest!.Digest, Is.EqualTo(_image.Digest));
        Assert.That(byTag.Blobs.Select(b => b.Digest), Is.EqualTo(_image.Blobs.Select(b => b.Digest)));
        Assert.That(await _client.GetManifestAsync("raw/app", "nope", null, Ct), Is.Null);
    }

    [Test]
    public void Get_with_an_expected_digest_the_bytes_do_not_have_is_refused()
    {
        var other = Digest.Sha256("another manifest"u8);

        var ex = Assert.CatchAsync<PromotionException>(() => _client.GetManifestAsync("raw/app", "v1", other, Ct))!;

        Assert.That(ex.Message, Does.Contain($"{_registry.Host}/raw/app:v1"));
        Assert.That(ex.Message, Does.Contain(other.ToString()));
    }

    [Test]
    public async Task Blobs_exist_stream_and_a_missing_one_is_named()
    {
        var layer = _image.Layers[0];

        Assert.That(await _client.BlobExistsAsync("raw/app", layer.Digest, Ct), Is.True);
        Assert.That(await _client.BlobExistsAsync("raw/other", layer.Digest, Ct), Is.False, "blobs are per repository");
        using (var response = await _client.GetBlobAsync("raw/app", layer.Digest, Ct))
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(Ct);
            Assert.That(Digest.Sha256(bytes), Is.EqualTo(layer.Digest));
        }
        var missing = Digest.Sha256("no such blob"u8);
        var ex = Assert.CatchAsync<PromotionException>(() => _client.GetBlobAsync("raw/app", missing, Ct))!;
        Assert.That(ex.Message, Does.Contain(missing.ToString()).And.Contain($"{_registry.Host}/raw/app"));
    }

    [Test]
    public async Task Tags_are_listed_and_an_unknown_repository_has_none()
    {
        using var raw = _registry.CreateClient();
        // Blobs must be in the repository for the registry to take the manifest: mount them first.
        foreach (var blob in _image.Blobs)
            await _client.MountBlobAsync("raw/tags", blob.Digest, "raw/app", Ct);
        foreach (var tag in new[] { "a", "b", "c" })
            await raw.PushManifestAsync("raw/tags", tag, _image.MediaType, _image.ManifestBytes, Ct);

        Assert.That(await _client.ListTagsAsync("raw/tags", Ct), Is.EquivalentTo(new[] { "a", "b", "c" }));
        Assert.That(await _client.ListTagsAsync("raw/none", Ct), Is.Empty);
    }

    [Test]
    public async Task Mount_of_a_blob_the_source_does_not_have_opens_an_upload_instead()
    {
        var (_, gz) = TestImages.RandomLayer(0, 1000);
        var digest = Digest.Sha256(gz);

        var session = await _client.MountBlobAsync("raw/target", digest, "raw/app", Ct);

        Assert.That(session, Is.Not.Null, "202: declined, with an upload session instead of 201");
        Assert.That(session!.Location.Authority, Is.EqualTo(_registry.Host));
        await _client.CompleteUploadAsync("raw/target", session, digest, new ByteArrayContent(gz), Ct);
        Assert.That(await _client.BlobExistsAsync("raw/target", digest, Ct), Is.True);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task A_manifest_over_4_MiB_is_refused_with_or_without_a_content_length(bool sendLength)
    {
        // Distribution itself refuses to store such a manifest, so a loopback server shaped like the
        // manifest endpoint serves one: with a Content-Length (refused up front) or chunked (refused mid-read).
        var big = JsonNode.Parse(_image.ManifestBytes)!.AsObject();
        big["annotations"] = new JsonObject { ["org.example.padding"] = new string('x', Manifest.MaxBytes) };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(big);
        await using var server = await LoopbackWebHost.StartAsync(async context =>
        {
            context.Response.ContentType = _image.MediaType;
            context.Response.Headers["Docker-Content-Digest"] = Digest.Sha256(bytes).ToString();
            if (sendLength) context.Response.ContentLength = bytes.Length;
            try
            {
                for (var offset = 0; offset < bytes.Length; offset += 64 * 1024)
                {
                    var n = Math.Min(64 * 1024, bytes.Length - offset);
                    await context.Response.Body.WriteAsync(bytes.AsMemory(offset, n), context.RequestAborted);
                }
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
        }, Ct);
        var client = new RegistryClient(_transport, server.Host);

        var ex = Assert.CatchAsync<PromotionException>(() => client.GetManifestAsync("raw/app", "huge", null, Ct))!;

        Assert.That(ex.Message, Does.Contain($"{server.Host}/raw/app:huge"));
        Assert.That(ex.Message, Does.Contain($"{Manifest.MaxBytes}-byte limit"));
        Assert.That(Encoding.UTF8.GetByteCount(ex.Message), Is.LessThan(500));
    }
}
