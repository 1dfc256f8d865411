using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// BuildOnce leaves an OCI image layout on disk; the first promotion pushes it to a registry with its
/// digest unchanged. Layouts are written by hand (byte-exact control) and by skopeo (a real tool's output).
/// </summary>
[TestFixture, NonParallelizable]
public sealed class LayoutCopyTests
{
    private RegistryServer _registry = null!;
    private RegistryTestClient _raw = null!;
    private EngineHarness _engine = null!;
    private string _dir = null!;
    private CancellationTokenSource _timeout = null!;

    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task StartRegistry()
    {
        _registry = await RegistryServer.StartAsync();
        _raw = _registry.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopRegistry()
    {
        _raw.Dispose();
        await _registry.DisposeAsync();
    }

    [SetUp]
    public void SetUp()
    {
        _engine = new EngineHarness();
        _dir = Path.Combine(Path.GetTempPath(), "imgpromo-layout-" + Guid.NewGuid().ToString("N"));
        _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    }

    [TearDown]
    public void TearDown()
    {
        _engine.Dispose();
        _timeout.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Test]
    public async Task A_hand_written_layout_is_pushed_with_its_digest_and_bytes_unchanged()
    {
        var layout = HandWrittenLayout.Write(_dir, "commit-1a2b3c", layerSizes: [20_000, 3_000]);

        var result = await _engine.Copier.CopyAsync(new LayoutSource(_dir), "commit-1a2b3c", ImageReference.Parse(_registry.Reference("built/app", "1a2b3c")),
            new CopyOptions(), Ct);

        Assert.That(result.Source, Is.EqualTo($"oci:{_dir}:commit-1a2b3c"));
        Assert.That(result.SourceDigest, Is.EqualTo(layout.ManifestDigest.ToString()));
        Assert.That(result.DestinationDigest, Is.EqualTo(layout.ManifestDigest.ToString()));
        Assert.That(result.BlobsCopied, Is.EqualTo(3));
        Assert.That(result.BytesUploaded, Is.EqualTo(layout.BlobSizes.Sum()));
        Assert.That(result.Requests.Keys, Is.EqualTo(new[] { _registry.Host }));
        var served = await _raw.GetManifestAsync("built/app", "1a2b3c", Ct);
        Assert.That(served!.Digest, Is.EqualTo(layout.ManifestDigest));
        Assert.That(served.Bytes, Is.EqualTo(layout.ManifestBytes));
        foreach (var blob in layout.Blobs)
            Assert.That(await _raw.GetBlobAsync("built/app", blob, Ct), Is.EqualTo(File.ReadAllBytes(Path.Combine(_dir, "blobs", "sha256", blob.Encoded))));

        // By digest too, and the second time nothing is written.
        await _registry.ResetRequestLogAsync(Ct);
        var again = await _engine.Copier.CopyAsync(new LayoutSource(_dir), layout.ManifestDigest.ToString(),
            ImageReference.Parse(_registry.Reference("built/app", "1a2b3c")), new CopyOptions(), Ct);
        Assert.That(again.UpToDate, Is.True);
        Assert.That((await _registry.GetRequestsAsync(Ct)).Writes(), Is.Empty);
    }

    [Test]
    public async Task A_layout_written_by_skopeo_is_pushed_with_its_digest_unchanged()
    {
        if (!ExternalTool.Exists("skopeo")) Assert.Ignore("skopeo is not installed");
        var image = await TestImages.PushRandomImageAsync(_registry, "skopeo/src", "v1", layerCount: 2, cancellationToken: Ct);
        await ExternalTool.RunAsync("skopeo", ["copy", "--src-tls-verify=false", $"docker://{_registry.Reference("skopeo/src", "v1")}", $"oci:{_dir}:v1"], Ct);

        var result = await _engine.Copier.CopyAsync(new LayoutSource(_dir), "v1", ImageReference.Parse(_registry.Reference("skopeo/dst", "v1")),
            new CopyOptions(), Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.BlobsCopied, Is.EqualTo(image.Blobs.Count));
        Assert.That(result.BytesUploaded, Is.EqualTo(image.Blobs.Sum(b => b.Size)));
        Assert.That(await _raw.GetManifestDigestAsync("skopeo/dst", "v1", Ct), Is.EqualTo(image.Digest));
    }

    [Test]
    public async Task A_multi_platform_layout_written_by_skopeo_keeps_its_index_digest()
    {
        if (!ExternalTool.Exists("skopeo")) Assert.Ignore("skopeo is not installed");
        var index = await TestImages.PushIndexAsync(_registry, "skopeo/multi", "v1", ["linux/amd64", "linux/arm64"], cancellationToken: Ct);
        await ExternalTool.RunAsync("skopeo", ["copy", "--all", "--src-tls-verify=false", $"docker://{_registry.Reference("skopeo/multi", "v1")}", $"oci:{_dir}:v1"], Ct);

        var result = await _engine.Copier.CopyAsync(new LayoutSource(_dir), "v1", ImageReference.Parse(_registry.Reference("skopeo/multi-dst", "v1")),
            new CopyOptions(), Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(index.Digest.ToString()));
        Assert.That(result.ManifestsPushed, Is.EqualTo(3));
        foreach (var child in index.Children)
            Assert.That(await _raw.GetManifestDigestAsync("skopeo/multi-dst", child.Digest.ToString(), Ct), Is.EqualTo(child.Digest), child.Platform);
    }

    [Test]
    public void A_tag_the_layout_does_not_have_is_named()
    {
        HandWrittenLayout.Write(_dir, "v1", layerSizes: [100]);

        var ex = Assert.CatchAsync<PromotionException>(() => _engine.Copier.CopyAsync(new LayoutSource(_dir), "v2",
            ImageReference.Parse(_registry.Reference("built/app", "v2")), new CopyOptions(), Ct))!;

        Assert.That(ex.Message, Does.Contain(_dir));
        Assert.That(ex.Message, Does.Contain("'v2'"));
    }

    [Test]
    public async Task A_layout_with_a_missing_blob_fails_and_tags_nothing()
    {
        var layout = HandWrittenLayout.Write(_dir, "v1", layerSizes: [100, 200]);
        File.Delete(Path.Combine(_dir, "blobs", "sha256", layout.Blobs[^1].Encoded));

        var ex = Assert.CatchAsync<PromotionException>(() => _engine.Copier.CopyAsync(new LayoutSource(_dir), "v1",
            ImageReference.Parse(_registry.Reference("broken/app", "v1")), new CopyOptions(), Ct))!;

        Assert.That(ex.Message, Does.Contain(layout.Blobs[^1].ToString()));
        Assert.That(await _raw.HeadManifestAsync("broken/app", "v1", Ct), Is.Null);
    }

    [Test]
    public async Task A_corrupted_blob_is_caught_in_flight_and_tags_nothing()
    {
        var layout = HandWrittenLayout.Write(_dir, "v1", layerSizes: [5_000]);
        var path = Path.Combine(_dir, "blobs", "sha256", layout.Blobs[^1].Encoded);
        var bytes = File.ReadAllBytes(path);
        bytes[^10] ^= 0xFF; // same size, other content: only the hash can tell
        File.WriteAllBytes(path, bytes);

        var ex = Assert.CatchAsync<PromotionException>(() => _engine.Copier.CopyAsync(new LayoutSource(_dir), "v1",
            ImageReference.Parse(_registry.Reference("corrupt/app", "v1")), new CopyOptions { BlobAttempts = 2 }, Ct))!;

        Assert.That(ex.Message, Does.Contain(layout.Blobs[^1].ToString()));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That(await _raw.HeadManifestAsync("corrupt/app", "v1", Ct), Is.Null);
        Assert.That(await _raw.BlobExistsAsync("corrupt/app", layout.Blobs[^1], Ct), Is.False);
    }

    [Test]
    public async Task An_upload_that_takes_longer_than_the_response_header_timeout_is_not_cut_off()
    {
        // The timeout is for a registry that stops answering, not for a big layer on a slow line:
        // here the layer upload takes about 1.5 s, the header timeout is 0.7 s, the longest pause 0.15 s.
        var layout = HandWrittenLayout.Write(_dir, "v1", layerSizes: [60_000]);
        using var engine = new EngineHarness(options: EngineHarness.FastRetries with { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(700) });
        var slow = new ThrottledSource(new LayoutSource(_dir), chunk: 6 * 1024, pause: TimeSpan.FromMilliseconds(150));

        var result = await engine.Copier.CopyAsync(slow, "v1", ImageReference.Parse(_registry.Reference("slow/app", "v1")),
            new CopyOptions { BlobAttempts = 1 }, Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(layout.ManifestDigest.ToString()));
        Assert.That(result.BytesUploaded, Is.EqualTo(layout.BlobSizes.Sum()));
        Assert.That(result.Seconds, Is.GreaterThan(1.0), "the upload really was slower than the timeout");
    }

    [Test]
    public async Task An_upload_whose_source_stops_moving_is_cut_off_after_the_timeout()
    {
        HandWrittenLayout.Write(_dir, "v1", layerSizes: [40_000]);
        using var engine = new EngineHarness(options: EngineHarness.FastRetries with { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(500) });
        var stalled = new ThrottledSource(new LayoutSource(_dir), chunk: 8 * 1024, pause: TimeSpan.FromSeconds(20));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var ex = Assert.CatchAsync<PromotionException>(() => engine.Copier.CopyAsync(stalled, "v1",
            ImageReference.Parse(_registry.Reference("stalled/app", "v1")), new CopyOptions { BlobAttempts = 1 }, Ct))!;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(ex.Message, Does.Contain("did not answer in time"));
        Assert.That(await _raw.HeadManifestAsync("stalled/app", "v1", Ct), Is.Null);
    }

    /// <summary>A source on a slow line: blobs arrive in small chunks with a pause before each.</summary>
    private sealed class ThrottledSource(IImageSource inner, int chunk, TimeSpan pause) : IImageSource
    {
        public string Name => inner.Name;
        public string? Registry => inner.Registry;
        public string? Repository => inner.Repository;

        public Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct) =>
            inner.GetManifestAsync(reference, expected, ct);

        public async Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct)
        {
            var opened = await inner.OpenBlobAsync(blob, ct);
            return new BlobStream(new SlowStream(opened.Stream, chunk, pause), null);
        }

        private sealed class SlowStream(Stream inner, int chunk, TimeSpan pause) : Stream
        {
            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                await Task.Delay(pause, cancellationToken);
                return await inner.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => inner.Length;
            public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing) inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }

    /// <summary>An OCI image layout as <c>buildah push IMAGE oci:DIR:TAG</c> writes it.</summary>
    private sealed record HandWrittenLayout(byte[] ManifestBytes, Digest ManifestDigest, IReadOnlyList<Digest> Blobs, IReadOnlyList<long> BlobSizes)
    {
        public static HandWrittenLayout Write(string dir, string tag, int[] layerSizes)
        {
            var blobDir = Path.Combine(dir, "blobs", "sha256");
            Directory.CreateDirectory(blobDir);
            Digest Put(byte[] content)
            {
                var d = Digest.Sha256(content);
                File.WriteAllBytes(Path.Combine(blobDir, d.Encoded), content);
                return d;
            }

            var layers = new JsonArray();
            var diffIds = new JsonArray();
            var blobs = new List<Digest>();
            var sizes = new List<long>();
            for (var i = 0; i < layerSizes.Length; i++)
            {
                var (tar, gz) = TestImages.RandomLayer(i, layerSizes[i]);
                var d = Put(gz);
                diffIds.Add(Digest.Sha256(tar).ToString());
                layers.Add(new JsonObject { ["mediaType"] = TestImages.OciLayer, ["digest"] = d.ToString(), ["size"] = gz.Length });
                blobs.Add(d);
                sizes.Add(gz.Length);
            }
            var config = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
            {
                ["architecture"] = "amd64", ["os"] = "linux",
                ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
            });
            var configDigest = Put(config);
            blobs.Insert(0, configDigest);
            sizes.Insert(0, config.Length);
            var manifest = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = TestImages.OciManifest,
                ["config"] = new JsonObject { ["mediaType"] = TestImages.OciConfig, ["digest"] = configDigest.ToString(), ["size"] = config.Length },
                ["layers"] = layers,
            });
            var manifestDigest = Put(manifest);
            File.WriteAllText(Path.Combine(dir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
            File.WriteAllBytes(Path.Combine(dir, "index.json"), JsonSerializer.SerializeToUtf8Bytes(new JsonObject
            {
                ["schemaVersion"] = 2,
                ["manifests"] = new JsonArray(new JsonObject
                {
                    ["mediaType"] = TestImages.OciManifest, ["digest"] = manifestDigest.ToString(), ["size"] = manifest.Length,
                    ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
                }),
            }));
            return new HandWrittenLayout(manifest, manifestDigest, blobs, sizes);
        }
    }
}
