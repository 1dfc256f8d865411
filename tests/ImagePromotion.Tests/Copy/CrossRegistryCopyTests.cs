using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// Promotion between two real distribution registries (dev → prod): blobs stream across, the manifest
/// arrives byte for byte, indexes bring every platform, and a second run is two reads.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class CrossRegistryCopyTests
{
    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private RegistryTestClient _devRaw = null!;
    private RegistryTestClient _prodRaw = null!;
    private EngineHarness _engine = null!;
    private CancellationTokenSource _timeout = null!;

    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task StartRegistries()
    {
        var dev = RegistryServer.StartAsync();
        var prod = RegistryServer.StartAsync();
        _dev = await dev;
        _prod = await prod;
        _devRaw = _dev.CreateClient();
        _prodRaw = _prod.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopRegistries()
    {
        _devRaw.Dispose();
        _prodRaw.Dispose();
        await _dev.DisposeAsync();
        await _prod.DisposeAsync();
    }

    [SetUp]
    public void NewEngine()
    {
        _engine = new EngineHarness();
        _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    }

    [TearDown]
    public void DisposeEngine()
    {
        _engine.Dispose();
        _timeout.Dispose();
    }

    private async Task ResetLogsAsync()
    {
        await _dev.ResetRequestLogAsync(Ct);
        await _prod.ResetRequestLogAsync(Ct);
    }

    [TestCase(TestImageFormat.Oci)]
    [TestCase(TestImageFormat.DockerV2)]
    public async Task Copy_between_registries_streams_every_blob_and_keeps_the_manifest_bytes(TestImageFormat format)
    {
        var repo = "cross/" + format.ToString().ToLowerInvariant();
        var image = await TestImages.PushRandomImageAsync(_dev, repo, "v1", layerCount: 3, layerSize: 40 * 1024, format: format, cancellationToken: Ct);
        await ResetLogsAsync();

        var result = await _engine.CopyAsync(_dev.Reference(repo, "v1"), _prod.Reference(repo, "v1"), ct: Ct);

        Assert.That(result.BlobsCopied, Is.EqualTo(image.Blobs.Count));
        Assert.That(result.BlobsMounted, Is.Zero);
        Assert.That(result.BytesUploaded, Is.EqualTo(image.Blobs.Sum(b => b.Size)));
        Assert.That(result.MediaType, Is.EqualTo(image.MediaType));
        Assert.That(result.Requests.Keys, Is.EquivalentTo(new[] { _dev.Host, _prod.Host }));
        // What the engine counted is what the registries logged (read before the checks below add their own).
        var devSeen = await _dev.GetRequestsAsync(Ct);
        var prodSeen = await _prod.GetRequestsAsync(Ct);
        Assert.That(devSeen.Writes(), Is.Empty, devSeen.Show());
        Assert.That(result.Requests[_dev.Host], Is.EqualTo(devSeen.Count), devSeen.Show());
        Assert.That(result.Requests[_prod.Host], Is.EqualTo(prodSeen.Count), prodSeen.Show());

        // The destination registry itself vouches for the digest and serves the very same bytes.
        var head = await _prodRaw.HeadManifestAsync(repo, "v1", Ct);
        Assert.That(head!.Digest, Is.EqualTo(image.Digest));
        Assert.That(head.MediaType, Is.EqualTo(image.MediaType));
        var served = await _prodRaw.GetManifestAsync(repo, "v1", Ct);
        Assert.That(served!.Bytes, Is.EqualTo(image.ManifestBytes));
        Assert.That(served.Bytes, Is.EqualTo((await _devRaw.GetManifestAsync(repo, "v1", Ct))!.Bytes));
        foreach (var blob in image.Blobs)
        {
            var bytes = await _prodRaw.GetBlobAsync(repo, blob.Digest, Ct);
            Assert.That(bytes, Is.Not.Null, blob.Digest.ToString());
            Assert.That(Digest.Sha256(bytes!), Is.EqualTo(blob.Digest));
            Assert.That(bytes!.LongLength, Is.EqualTo(blob.Size));
        }

    }

    [TestCase(TestImageFormat.Oci)]
    [TestCase(TestImageFormat.DockerV2)]
    public async Task A_multi_platform_index_arrives_with_every_child_by_digest(TestImageFormat format)
    {
        var repo = "multi/" + format.ToString().ToLowerInvariant();
        var index = await TestImages.PushIndexAsync(_dev, repo, "v2", ["linux/amd64", "linux/arm64/v8", "linux/s390x"],
            layerCount: 2, format: format, cancellationToken: Ct);

        var result = await _engine.CopyAsync(_dev.Reference(repo, "v2"), _prod.Reference(repo, "v2"), ct: Ct);

        Assert.That(result.MediaType, Is.EqualTo(index.MediaType));
        Assert.That(result.DestinationDigest, Is.EqualTo(index.Digest.ToString()));
        Assert.That(result.ManifestsPushed, Is.EqualTo(4), "three children and the index");
        var blobs = index.Children.SelectMany(c => c.Blobs).ToList();
        Assert.That(result.BlobsCopied, Is.EqualTo(blobs.Count));
        Assert.That(result.BytesUploaded, Is.EqualTo(blobs.Sum(b => b.Size)));

        Assert.That((await _prodRaw.GetManifestAsync(repo, "v2", Ct))!.Bytes, Is.EqualTo(index.ManifestBytes));
        foreach (var child in index.Children)
        {
            var served = await _prodRaw.GetManifestAsync(repo, child.Digest.ToString(), Ct);
            Assert.That(served, Is.Not.Null, $"{child.Platform} {child.Digest}");
            Assert.That(served!.Bytes, Is.EqualTo(child.ManifestBytes), child.Platform);
            foreach (var blob in child.Blobs)
                Assert.That(await _prodRaw.BlobExistsAsync(repo, blob.Digest, Ct), Is.True, $"{child.Platform} {blob.Digest}");
        }
    }

    [Test]
    public async Task A_buildah_built_multi_arch_index_arrives_with_every_child_and_blob()
    {
        await using var buildah = BuildahImages.Create();
        var index = await buildah.PushMultiArchIndexAsync(_dev, "buildah/app", "v1", cancellationToken: Ct);

        var result = await _engine.CopyAsync(_dev.Reference("buildah/app", "v1"), _prod.Reference("buildah/app", "v1"), ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(index.Digest.ToString()));
        Assert.That(result.ManifestsPushed, Is.EqualTo(index.Platforms.Count + 1));
        Assert.That((await _prodRaw.GetManifestAsync("buildah/app", "v1", Ct))!.Bytes, Is.EqualTo(index.ManifestBytes));
        var expectedBlobs = new HashSet<Digest>();
        foreach (var platform in index.Platforms)
        {
            var source = (await _devRaw.GetManifestAsync("buildah/app", platform.Digest.ToString(), Ct))!;
            var served = await _prodRaw.GetManifestAsync("buildah/app", platform.Digest.ToString(), Ct);
            Assert.That(served?.Bytes, Is.EqualTo(source.Bytes), platform.Platform);
            var child = Manifest.Parse(source.Bytes, source.MediaType, platform.Platform);
            foreach (var blob in child.Blobs)
            {
                expectedBlobs.Add(blob.Digest);
                Assert.That(await _prodRaw.BlobExistsAsync("buildah/app", blob.Digest, Ct), Is.True, $"{platform.Platform} {blob.Digest}");
            }
        }
        Assert.That(result.BlobsCopied, Is.EqualTo(expectedBlobs.Count), "a blob shared by platforms is copied once");
    }

    [Test]
    public async Task Index_children_already_in_the_destination_are_neither_pushed_nor_read_for_blobs()
    {
        var index = await TestImages.PushIndexAsync(_dev, "partial/app", "v1", ["linux/amd64", "linux/arm64", "linux/ppc64le"], cancellationToken: Ct);
        var present = index.Children[1];
        await _engine.CopyAsync(_dev.Reference("partial/app", present.Digest.ToString()), _prod.Reference("partial/app", null), ct: Ct);
        Assert.That(await _prodRaw.GetManifestDigestAsync("partial/app", present.Digest.ToString(), Ct), Is.EqualTo(present.Digest));
        await ResetLogsAsync();

        var result = await _engine.CopyAsync(_dev.Reference("partial/app", "v1"), _prod.Reference("partial/app", "v1"), ct: Ct);

        Assert.That(result.ManifestsPushed, Is.EqualTo(3), "two missing children and the index");
        var missing = index.Children.Where(c => c != present).SelectMany(c => c.Blobs).ToList();
        Assert.That(result.BlobsCopied, Is.EqualTo(missing.Count));
        Assert.That(result.BytesUploaded, Is.EqualTo(missing.Sum(b => b.Size)));
        var prodSeen = await _prod.GetRequestsAsync(Ct);
        Assert.That(prodSeen.Where(r => r.Path.Contains(present.Config.Digest.Encoded) || r.Path.Contains(present.Layers[0].Digest.Encoded)),
            Is.Empty, "the present child's blobs are not even looked at");
        Assert.That(prodSeen.Where(r => r.Method == "PUT" && r.Path.EndsWith("/manifests/" + present.Digest)), Is.Empty);
        Assert.That(await _prodRaw.GetManifestDigestAsync("partial/app", "v1", Ct), Is.EqualTo(index.Digest));
    }

    [Test]
    public async Task A_second_run_is_up_to_date_after_two_reads_and_writes_nothing()
    {
        var index = await TestImages.PushIndexAsync(_dev, "again/app", "v3", cancellationToken: Ct);
        var first = await _engine.CopyAsync(_dev.Reference("again/app", "v3"), _prod.Reference("again/app", "v3"), ct: Ct);
        Assert.That(first.UpToDate, Is.False);
        await ResetLogsAsync();

        using var fresh = new EngineHarness(); // a new CI job: no warm connections or learned schemes
        var second = await fresh.CopyAsync(_dev.Reference("again/app", "v3"), _prod.Reference("again/app", "v3"), ct: Ct);

        Assert.That(second.UpToDate, Is.True);
        Assert.That(second.DestinationDigest, Is.EqualTo(index.Digest.ToString()));
        Assert.That(second.PreviousDigest, Is.EqualTo(index.Digest.ToString()));
        Assert.That((second.BlobsCopied, second.BlobsMounted, second.ManifestsPushed, second.BytesUploaded), Is.EqualTo((0, 0, 0, 0L)));
        Assert.That(second.Requests[_dev.Host], Is.LessThanOrEqualTo(2));
        Assert.That(second.Requests[_prod.Host], Is.LessThanOrEqualTo(2));
        var devSeen = await _dev.GetRequestsAsync(Ct);
        var prodSeen = await _prod.GetRequestsAsync(Ct);
        Assert.That(devSeen, Has.Count.LessThanOrEqualTo(2), devSeen.Show());
        Assert.That(prodSeen, Has.Count.LessThanOrEqualTo(2), prodSeen.Show());
        Assert.That(devSeen.Writes().Concat(prodSeen.Writes()), Is.Empty);
    }

    [Test]
    public async Task Dry_run_plans_copies_and_skips_and_the_destination_tag_stays_absent()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "dry/app", "v1", layerCount: 2, cancellationToken: Ct);
        // The first layer is already in production (a shared base layer).
        var shared = image.Layers[0];
        await _prodRaw.PushBlobAsync("dry/app", (await _devRaw.GetBlobAsync("dry/app", shared.Digest, Ct))!, Ct);
        await ResetLogsAsync();

        var plan = await _engine.PlanAsync(_dev, "dry/app", "v1", _prod.Reference("dry/app", "v1"), ct: Ct);
        var result = await _engine.CopyAsync(_dev.Reference("dry/app", "v1"), _prod.Reference("dry/app", "v1"), new CopyOptions { DryRun = true }, Ct);

        Assert.That(plan.Blobs.ToDictionary(b => b.Blob.Digest, b => b.Action), Is.EquivalentTo(new Dictionary<Digest, BlobAction>
        {
            [image.Config.Digest] = BlobAction.Copy,
            [shared.Digest] = BlobAction.Skip,
            [image.Layers[1].Digest] = BlobAction.Copy,
        }));
        var lines = plan.Describe().ToList();
        Assert.That(lines, Has.Exactly(1).Contains("skip: already in destination"));
        Assert.That(lines, Has.Exactly(2).Contains($"copy: streamed from {_dev.Host}/dry/app"));
        Assert.That(result.DryRun, Is.True);
        Assert.That(result.SourceDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.DestinationDigest, Is.Null);
        Assert.That(result.BytesUploaded, Is.Zero);
        Assert.That(_engine.Log.Lines, Has.Some.Contains("skip: already in destination"), "a dry run prints its plan");

        var prodSeen = await _prod.GetRequestsAsync(Ct);
        Assert.That(prodSeen.Writes(), Is.Empty, prodSeen.Show());
        Assert.That(await _prodRaw.HeadManifestAsync("dry/app", "v1", Ct), Is.Null);
        Assert.That(await _prodRaw.BlobExistsAsync("dry/app", image.Layers[1].Digest, Ct), Is.False);
    }

    [Test]
    public async Task A_destination_pinned_to_another_digest_is_refused_before_any_write()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "pin/app", "v1", layerCount: 1, cancellationToken: Ct);
        var other = Digest.Sha256("not the image"u8);
        await ResetLogsAsync();

        var ex = Assert.CatchAsync<PromotionException>(() =>
            _engine.CopyAsync(_dev.Reference("pin/app", "v1"), $"{_prod.Host}/pin/app:v1@{other}", ct: Ct))!;

        Assert.That(ex.Message, Does.Contain(other.ToString()).And.Contain(image.Digest.ToString()));
        Assert.That((await _prod.GetRequestsAsync(Ct)).Writes(), Is.Empty);
    }
}
