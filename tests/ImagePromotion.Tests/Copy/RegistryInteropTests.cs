using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// What real registries do differently, each kind emulated by a quirk of our own in front of (or beside) a real
/// distribution registry, from the public reports in the registry profile table: refused mounts, Retry-After on
/// streamed uploads, registries that take only chunked uploads or bound the chunk size, nested indexes,
/// non-distributable layers, Docker schema 1 and immutable tags.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class RegistryInteropTests
{
    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private RegistryTestClient _devRaw = null!;
    private RegistryTestClient _prodRaw = null!;
    private CancellationTokenSource _timeout = null!;
    private int _n;

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
    public void SetUp() => _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

    [TearDown]
    public void TearDown() => _timeout.Dispose();

    private string Repo(string kind) => $"interop/{kind}{Interlocked.Increment(ref _n)}";

    private static int Count(FaultProxy proxy, string method, string pathPart, string? queryPart = null) =>
        proxy.Requests.Count(r => r.Method == method && r.PathAndQuery.Contains(pathPart, StringComparison.Ordinal)
                                  && (queryPart is null || r.PathAndQuery.Contains(queryPart, StringComparison.Ordinal)));

    // ---- refused mounts ---------------------------------------------------------------------------------------

    [TestCase(401, "UNAUTHORIZED", TestName = "A_refused_mount_401_falls_back_to_an_upload")]
    [TestCase(403, "DENIED", TestName = "A_refused_mount_403_DENIED_falls_back_to_an_upload")]
    [TestCase(404, "NAME_UNKNOWN", TestName = "A_refused_mount_404_falls_back_to_an_upload")]
    [TestCase(405, "UNSUPPORTED", TestName = "A_refused_mount_405_UNSUPPORTED_falls_back_to_an_upload")]
    public async Task Refused_mounts_fall_back_to_uploads_and_the_result_counts_them(int status, string code)
    {
        // GitLab's token service kept one scope (estesp/manifest-tool#53), Harbor answers 401 for a project it
        // cannot see (goharbor/harbor#17097): whatever the refusal, the blobs are uploaded instead.
        var repository = Repo("mount");
        var image = await TestImages.PushRandomImageAsync(_devRaw, repository, "v1", layerCount: 2, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(_dev, Ct);
        proxy.Inject("POST", "/blobs/uploads/", FaultAction.Status(status, code), FaultProxy.Always, queryPattern: "mount=");
        using var engine = new EngineHarness(defaults: new CopyOptions { MaxParallelism = 1 });

        var result = await engine.CopyAsync($"{proxy.Host}/{repository}:v1", $"{proxy.Host}/{repository}-prod:v1", ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.MountFallbacks, Is.EqualTo(image.Blobs.Count));
        Assert.That(result.BlobsCopied, Is.EqualTo(image.Blobs.Count));
        Assert.That(result.BlobsMounted, Is.Zero);
        Assert.That(Count(proxy, "POST", "/blobs/uploads/", "mount="), Is.EqualTo(1), "after one refusal the run stops asking this registry to mount");
        foreach (var blob in image.Blobs)
            Assert.That(await _devRaw.BlobExistsAsync(repository + "-prod", blob.Digest, Ct), Is.True);
    }

    [Test]
    public async Task A_declined_mount_202_uploads_into_the_session_it_opened_and_counts_as_a_fallback()
    {
        // Cross-repository mount of a blob the source repository does not have: distribution answers 202.
        var repository = Repo("decline");
        var image = await TestImages.PushRandomImageAsync(_devRaw, repository, "v1", layerCount: 1, cancellationToken: Ct);
        await TestImages.PushRandomImageAsync(_devRaw, repository + "-elsewhere", "v0", layerCount: 1, cancellationToken: Ct);
        using var engine = new EngineHarness();
        var client = engine.Copier.Client(_dev.Host);
        var top = (await client.GetManifestAsync(repository, "v1", null, Ct))!;
        // The copy names <repository>-elsewhere as its source, which lacks these blobs: every mount is declined.
        var source = new ManifestFromSource(new RegistrySource(client, repository + "-elsewhere"), top, new RegistrySource(client, repository));
        await _dev.ResetRequestLogAsync(Ct);

        var result = await engine.Copier.CopyAsync(source, "v1", ImageReference.Parse(_dev.Reference(repository + "-prod", "v1")), new CopyOptions(), Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.MountFallbacks, Is.EqualTo(image.Blobs.Count));
        var requests = await _dev.GetRequestsAsync(Ct);
        Assert.That(requests.Count(r => r.Method == "POST" && r.Path.Contains("/blobs/uploads/") && !r.Path.Contains("mount=")), Is.Zero,
            "the 202 session is used; no second upload session is opened");
    }

    /// <summary>
    /// A source whose manifest comes from one repository and blobs from another: the mounts (from the
    /// repository it names) are declined, the uploads read from where the blobs are.
    /// </summary>
    private sealed class ManifestFromSource(RegistrySource named, Manifest top, RegistrySource blobs) : IImageSource
    {
        public string Name => named.Name;
        public string? Registry => named.Registry;
        public string? Repository => named.Repository;
        public Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct) => Task.FromResult(top);
        public Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct) => blobs.OpenBlobAsync(blob, ct);
    }

    // ---- Retry-After on streamed uploads ----------------------------------------------------------------------

    [Test]
    public async Task A_429_on_a_streamed_upload_waits_its_Retry_After_and_reopens_the_source()
    {
        var repository = Repo("throttled");
        var image = await TestImages.PushRandomImageAsync(_devRaw, repository, "v1", layerCount: 1, layerSize: 64 * 1024, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(_prod, Ct);
        var rule = proxy.Inject("PUT", "/blobs/uploads/", FaultAction.TooManyRequests(TimeSpan.FromSeconds(1)));
        using var engine = new EngineHarness(defaults: new CopyOptions { MaxParallelism = 1 });
        var retries = new ConcurrentQueue<RetryScheduled>();
        using var _ = engine.Transport.Events.Subscribe(new Collector<RetryScheduled>(retries));
        await _dev.ResetRequestLogAsync(Ct);

        var result = await engine.CopyAsync(_dev.Reference(repository, "v1"), $"{proxy.Host}/{repository}:v1", ct: Ct);

        Assert.That(rule.Hits, Is.EqualTo(1));
        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        var retry = retries.Single();
        Assert.That(retry.Delay, Is.EqualTo(TimeSpan.FromSeconds(1)), "the registry's Retry-After, not the backoff");
        Assert.That(retry.Reason, Does.Contain("429"));
        Assert.That(engine.Log.Lines, Has.Some.Matches<string>(l => l.StartsWith("info: retrying (2/4) in 1.0 s: ", StringComparison.Ordinal) && l.Contains("429")));
        var throttled = proxy.Requests.First(r => r.Status == 429);
        var blob = image.Blobs.Single(b => throttled.PathAndQuery.Contains(b.Digest.Encoded, StringComparison.Ordinal));
        var reads = (await _dev.GetRequestsAsync(Ct)).Count(r => r.Method == "GET" && r.Path.EndsWith(blob.Digest.ToString(), StringComparison.Ordinal));
        Assert.That(reads, Is.EqualTo(2), "the source stream was opened again, not replayed");
        Assert.That(Count(proxy, "DELETE", "/blobs/uploads/"), Is.EqualTo(1), "the throttled session was cancelled");
        Assert.That(result.BytesUploaded, Is.EqualTo(image.Blobs.Sum(b => b.Size)));
    }

    [Test]
    public async Task A_Retry_After_beyond_the_maximum_on_a_streamed_upload_fails_at_once_naming_the_429()
    {
        var repository = Repo("throttled-long");
        await TestImages.PushRandomImageAsync(_devRaw, repository, "v1", layerCount: 1, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(_prod, Ct);
        proxy.Inject("PUT", "/blobs/uploads/", FaultAction.TooManyRequests(TimeSpan.FromMinutes(10)), FaultProxy.Always);
        using var engine = new EngineHarness(defaults: new CopyOptions { MaxParallelism = 1 });

        var ex = Assert.CatchAsync<RegistryException>(() => engine.CopyAsync(_dev.Reference(repository, "v1"), $"{proxy.Host}/{repository}:v1", ct: Ct))!;

        Assert.That(ex.Status, Is.EqualTo(System.Net.HttpStatusCode.TooManyRequests));
        Assert.That(ex.ErrorCode, Is.EqualTo(RegistryErrorCodes.TooManyRequests));
        Assert.That(ex.Operation, Is.EqualTo(RegistryOperation.CompleteUpload));
        Assert.That(ex.RetryAfter, Is.EqualTo(TimeSpan.FromMinutes(10)));
        Assert.That(Count(proxy, "PUT", "/blobs/uploads/"), Is.EqualTo(1), "a wait over the documented 60 s maximum is reported, not waited");
        Assert.That(await _prodRaw.HeadManifestAsync(repository, "v1", Ct), Is.Null);
    }

    // ---- chunked uploads --------------------------------------------------------------------------------------

    [Test]
    public async Task Chunked_uploads_are_used_once_a_registry_refuses_a_monolithic_put()
    {
        // pulp_container before pulp/pulp_container#1274: the completing PUT's body is ignored, only PATCHed data counts.
        var repository = Repo("chunked");
        var image = await TestImages.PushRandomImageAsync(_devRaw, repository, "v1", layerCount: 2, layerSize: 32 * 1024, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(_prod, Ct);
        proxy.Inject("PUT", "/blobs/uploads/", FaultAction.DropRequestBody(), FaultProxy.Always);
        using var engine = new EngineHarness(defaults: new CopyOptions { MaxParallelism = 1 });

        var result = await engine.CopyAsync(_dev.Reference(repository, "v1"), $"{proxy.Host}/{repository}:v1", ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.ChunkedUploads, Is.EqualTo(image.Blobs.Count));
        Assert.That(proxy.Requests.Count(r => r.Method == "PUT" && r.PathAndQuery.Contains("/blobs/uploads/") && r.Status == 400), Is.EqualTo(1),
            "one refused monolithic PUT, then the registry is known to need chunks");
        Assert.That(Count(proxy, "PATCH", "/blobs/uploads/"), Is.EqualTo(image.Blobs.Count));
        Assert.That(engine.Log.Lines, Has.Some.Contains("refused a monolithic upload"));
        foreach (var blob in image.Blobs)
            Assert.That(Digest.Sha256((await _prodRaw.GetBlobAsync(repository, blob.Digest, Ct))!), Is.EqualTo(blob.Digest));
    }

    [Test]
    public async Task A_registry_known_to_need_chunks_gets_them_from_the_first_blob()
    {
        var repository = Repo("pulp");
        var image = await TestImages.PushRandomImageAsync(_devRaw, repository, "v1", layerCount: 2, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(_prod, Ct);
        proxy.Inject("PUT", "/blobs/uploads/", FaultAction.DropRequestBody(), FaultProxy.Always);
        using var engine = new EngineHarness(options: EngineHarness.FastRetries with
        {
            Families = new Dictionary<string, string> { [proxy.Host] = "pulp" },
        });

        var result = await engine.CopyAsync(_dev.Reference(repository, "v1"), $"{proxy.Host}/{repository}:v1", ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.ChunkedUploads, Is.EqualTo(image.Blobs.Count));
        Assert.That(proxy.Requests.Where(r => r.Method == "PUT").Select(r => r.Status), Is.All.EqualTo(201), "no PUT was refused");
    }

    [Test]
    public async Task Chunks_stay_within_a_registry_s_largest_patch_and_every_range_is_right()
    {
        // GHCR takes at most 4 MiB per PATCH (oras-project/rust-oci-client#35): a 9 MiB layer goes in three chunks.
        var repository = Repo("ghcr");
        var image = await TestImages.PushRandomImageAsync(_devRaw, repository, "v1", layerCount: 1, layerSize: 9 * 1024 * 1024, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(_prod, Ct);
        proxy.Inject("PUT", "/blobs/uploads/", FaultAction.DropRequestBody(), FaultProxy.Always);
        using var engine = new EngineHarness(options: EngineHarness.FastRetries with
        {
            Families = new Dictionary<string, string> { [proxy.Host] = "ghcr" },
        }, defaults: new CopyOptions { MaxParallelism = 1 });

        var result = await engine.CopyAsync(_dev.Reference(repository, "v1"), $"{proxy.Host}/{repository}:v1", ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        var layer = image.Layers[0];
        var chunks = proxy.Requests.Count(r => r.Method == "PATCH") - 1; // the config went in one chunk
        Assert.That(chunks, Is.EqualTo((int)Math.Ceiling(layer.Size / (4.0 * 1024 * 1024))));
        Assert.That(Digest.Sha256((await _prodRaw.GetBlobAsync(repository, layer.Digest, Ct))!), Is.EqualTo(layer.Digest));
    }

    // ---- nested indexes ---------------------------------------------------------------------------------------

    [Test]
    public async Task An_index_of_indexes_three_deep_is_copied_whole_children_before_parents_digests_kept()
    {
        // ghcr.io serves such images (pelagos-containers/pelagos#533); quay fixed its parser for them (quay/quay#3427).
        var repository = Repo("nested");
        var a = await TestImages.PushRandomImageAsync(_devRaw, repository, null, layerCount: 1, platform: "linux/amd64", cancellationToken: Ct);
        var b = await TestImages.PushRandomImageAsync(_devRaw, repository, null, layerCount: 1, platform: "linux/arm64", cancellationToken: Ct);
        var c = await TestImages.PushRandomImageAsync(_devRaw, repository, null, layerCount: 1, platform: "linux/s390x", cancellationToken: Ct);
        var inner = await PushIndexAsync(repository, null, [(a.Digest, a.ManifestBytes.Length, a.MediaType), (b.Digest, b.ManifestBytes.Length, b.MediaType)]);
        var middle = await PushIndexAsync(repository, null, [(inner.Digest, inner.Bytes.Length, TestImages.OciIndex)]);
        var outer = await PushIndexAsync(repository, "v1", [(middle.Digest, middle.Bytes.Length, TestImages.OciIndex), (c.Digest, c.ManifestBytes.Length, c.MediaType)]);
        await using var proxy = await FaultProxy.StartAsync(_prod, Ct);
        using var engine = new EngineHarness();

        var result = await engine.CopyAsync(_dev.Reference(repository, "v1"), $"{proxy.Host}/{repository}:v1", ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(outer.Digest.ToString()));
        Assert.That(result.ManifestsPushed, Is.EqualTo(6), "three images, two nested indexes, the top index");
        Assert.That(await _prodRaw.GetManifestDigestAsync(repository, "v1", Ct), Is.EqualTo(outer.Digest));
        foreach (var image in new[] { a, b, c })
            foreach (var blob in image.Blobs)
                Assert.That(await _prodRaw.BlobExistsAsync(repository, blob.Digest, Ct), Is.True);
        var order = proxy.Requests.Where(r => r.Method == "PUT" && r.PathAndQuery.Contains("/manifests/")).Select(r => r.PathAndQuery).ToList();
        int At(Digest d) => order.FindIndex(p => p.EndsWith(d.ToString(), StringComparison.Ordinal));
        Assert.That(At(a.Digest), Is.LessThan(At(inner.Digest)));
        Assert.That(At(b.Digest), Is.LessThan(At(inner.Digest)));
        Assert.That(At(inner.Digest), Is.LessThan(At(middle.Digest)));
        Assert.That(At(middle.Digest), Is.LessThan(order.FindIndex(p => p.EndsWith("/manifests/v1", StringComparison.Ordinal))));
    }

    private async Task<(Digest Digest, byte[] Bytes)> PushIndexAsync(string repository, string? tag, IEnumerable<(Digest Digest, int Size, string MediaType)> entries)
    {
        var manifests = new JsonArray();
        foreach (var (digest, size, mediaType) in entries)
            manifests.Add(new JsonObject { ["mediaType"] = mediaType, ["digest"] = digest.ToString(), ["size"] = size });
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = TestImages.OciIndex, ["manifests"] = manifests });
        var d = Digest.Sha256(bytes);
        await _devRaw.PushManifestAsync(repository, tag ?? d.ToString(), TestImages.OciIndex, bytes, Ct);
        return (d, bytes);
    }

    // ---- Docker schema 1 --------------------------------------------------------------------------------------

    [Test]
    public async Task A_signed_schema_1_image_is_refused_with_a_re_push_hint_by_tag_and_by_the_digest_the_registry_reports()
    {
        // Its digest is the payload's without the signatures (distribution/distribution#1444): never the bytes' hash.
        await using var legacy = await Schema1Registry.StartAsync(Ct);
        using var engine = new EngineHarness();
        Assert.That(legacy.ServedDigest, Is.Not.EqualTo(legacy.BytesDigest), "the fixture is shaped like the real thing");

        foreach (var reference in new[] { $"{legacy.Host}/{Schema1Registry.Repository}:1", $"{legacy.Host}/{Schema1Registry.Repository}@{legacy.ServedDigest}" })
        {
            var ex = Assert.CatchAsync<PromotionException>(() => engine.CopyAsync(reference, _prod.Reference("legacy/copy", "1"), ct: Ct))!;
            Assert.That(ex.Message, Does.Contain("Docker schema 1, which is not supported"), reference);
            Assert.That(ex.Message, Does.Contain("re-push the image with a current client"), reference);
            Assert.That(ex.Message, Does.Not.Contain("hash to").And.Not.Contain("other content"), "not blamed on the registry's bytes");
        }
        Assert.That(await _prodRaw.HeadManifestAsync("legacy/copy", "1", Ct), Is.Null);
    }

    // ---- non-distributable layers -----------------------------------------------------------------------------

    [TestCase(TestImageFormat.DockerV2, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")]
    [TestCase(TestImageFormat.Oci, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")]
    public async Task A_foreign_layer_the_source_lacks_is_left_out_with_the_digest_kept(TestImageFormat format, string foreignType)
    {
        await using var src = await RegistryServer.StartAsync(new RegistryServerOptions { AllowedLayerUrls = [ForeignUrls] }, Ct);
        await using var dst = await RegistryServer.StartAsync(new RegistryServerOptions { AllowedLayerUrls = [ForeignUrls] }, Ct);
        using var srcRaw = src.CreateClient();
        using var dstRaw = dst.CreateClient();
        var (manifest, foreign) = await PushWindowsLikeImageAsync(srcRaw, "win/app", format, foreignType, pushForeign: false);
        using var engine = new EngineHarness();

        var across = await engine.CopyAsync(src.Reference("win/app", "ltsc"), dst.Reference("win/app", "ltsc"), ct: Ct);
        var inside = await engine.CopyAsync(src.Reference("win/app", "ltsc"), src.Reference("prod/app", "ltsc"), ct: Ct);

        foreach (var result in new[] { across, inside })
        {
            Assert.That(result.DestinationDigest, Is.EqualTo(manifest.ToString()));
            Assert.That(result.ForeignLayersSkipped, Is.EqualTo(1));
        }
        Assert.That(across.BlobsCopied, Is.EqualTo(2), "config and the ordinary layer");
        Assert.That(inside.BlobsMounted, Is.EqualTo(2));
        Assert.That(await dstRaw.GetManifestDigestAsync("win/app", "ltsc", Ct), Is.EqualTo(manifest));
        Assert.That(await dstRaw.BlobExistsAsync("win/app", foreign, Ct), Is.False, "never required, never fetched");
    }

    [Test]
    public async Task Foreign_layers_are_copied_on_request_where_the_source_holds_them()
    {
        await using var src = await RegistryServer.StartAsync(new RegistryServerOptions { AllowedLayerUrls = [ForeignUrls] }, Ct);
        await using var dst = await RegistryServer.StartAsync(new RegistryServerOptions { AllowedLayerUrls = [ForeignUrls] }, Ct);
        using var srcRaw = src.CreateClient();
        using var dstRaw = dst.CreateClient();
        var (manifest, foreign) = await PushWindowsLikeImageAsync(srcRaw, "win/app", TestImageFormat.Oci,
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", pushForeign: true);
        using var engine = new EngineHarness();

        var result = await engine.CopyAsync(src.Reference("win/app", "ltsc"), dst.Reference("win/app", "ltsc"), new CopyOptions { CopyForeignLayers = true }, Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(manifest.ToString()));
        Assert.That(result.ForeignLayersSkipped, Is.Zero);
        Assert.That(result.BlobsCopied, Is.EqualTo(3));
        Assert.That(await dstRaw.BlobExistsAsync("win/app", foreign, Ct), Is.True);
    }

    private const string ForeignUrls = @"^https://foreign\.example/";

    /// <summary>A Windows-like image: config, a foreign base layer listed with <c>urls</c>, an ordinary layer.</summary>
    private async Task<(Digest Manifest, Digest Foreign)> PushWindowsLikeImageAsync(RegistryTestClient raw, string repository,
        TestImageFormat format, string foreignType, bool pushForeign)
    {
        var oci = format == TestImageFormat.Oci;
        var (_, foreignGz) = TestImages.RandomLayer(0, 4096);
        var (_, appGz) = TestImages.RandomLayer(1, 2048);
        var foreign = Digest.Sha256(foreignGz);
        if (pushForeign) await raw.PushBlobAsync(repository, foreignGz, Ct);
        var app = await raw.PushBlobAsync(repository, appGz, Ct);
        var config = JsonSerializer.SerializeToUtf8Bytes(new { architecture = "amd64", os = "windows", rootfs = new { type = "layers", diff_ids = Array.Empty<string>() } });
        var configDigest = await raw.PushBlobAsync(repository, config, Ct);
        var mediaType = oci ? TestImages.OciManifest : TestImages.DockerManifest;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["config"] = new JsonObject { ["mediaType"] = oci ? TestImages.OciConfig : TestImages.DockerConfig, ["digest"] = configDigest.ToString(), ["size"] = config.Length },
            ["layers"] = new JsonArray
            {
                new JsonObject { ["mediaType"] = foreignType, ["digest"] = foreign.ToString(), ["size"] = foreignGz.Length,
                    ["urls"] = new JsonArray($"https://foreign.example/{foreign.Encoded}") },
                new JsonObject { ["mediaType"] = oci ? TestImages.OciLayer : TestImages.DockerLayer, ["digest"] = app.ToString(), ["size"] = appGz.Length },
            },
        });
        return (await raw.PushManifestAsync(repository, "ltsc", mediaType, bytes, Ct), foreign);
    }

    // ---- immutable tags ---------------------------------------------------------------------------------------

    [Test]
    public async Task Immutable_tags_a_first_copy_lands_a_re_run_writes_nothing_another_image_is_refused_saying_why()
    {
        // ECR IMMUTABLE repositories refuse any PUT of an existing tag with 400 TAG_INVALID (aws/containers-roadmap#2179).
        var repository = Repo("immutable");
        var index = await TestImages.PushIndexAsync(_devRaw, repository, "1", cancellationToken: Ct);
        var other = await TestImages.PushRandomImageAsync(_devRaw, repository, "2", layerCount: 1, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(_prod, Ct);
        proxy.Inject("PUT", FaultProxy.TagManifestPath, FaultAction.ImmutableTag(), FaultProxy.Always);
        using var engine = new EngineHarness();
        var to = $"{proxy.Host}/{repository}:1";

        var first = await engine.CopyAsync(_dev.Reference(repository, "1"), to, ct: Ct);
        proxy.ResetRequests();
        var again = await engine.CopyAsync(_dev.Reference(repository, "1"), to, ct: Ct);
        var writesOnRerun = proxy.Requests.Count(r => r.Method is "PUT" or "POST" or "PATCH");
        var ex = Assert.CatchAsync<PromotionConflictException>(() => engine.CopyAsync(_dev.Reference(repository, "2"), to, ct: Ct))!;

        Assert.That(first.DestinationDigest, Is.EqualTo(index.Digest.ToString()));
        Assert.That(again.UpToDate, Is.True);
        Assert.That(writesOnRerun, Is.Zero);
        Assert.That(ex.Message, Does.Contain("is immutable"));
        Assert.That(ex.Message, Does.Contain("TAG_INVALID"));
        Assert.That(ex.Message, Does.Contain("promote under a new tag"));
        Assert.That(ex.Message, Does.Contain(index.Digest.ToString()).And.Contain(other.Digest.ToString()));
        Assert.That(await _prodRaw.GetManifestDigestAsync(repository, "1", Ct), Is.EqualTo(index.Digest), "the tag is unchanged");
    }

    /// <summary>Collects the events of one type.</summary>
    internal sealed class Collector<T>(ConcurrentQueue<T> into) : IObserver<TransferEvent> where T : TransferEvent
    {
        public void OnNext(TransferEvent value) { if (value is T t) into.Enqueue(t); }
        public void OnError(Exception error) { }
        public void OnCompleted() { }
    }
}
