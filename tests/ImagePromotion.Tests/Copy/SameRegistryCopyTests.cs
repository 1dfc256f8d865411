using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// Promotion inside one real distribution registry: a retag costs a manifest PUT, a new repository gets
/// its blobs by mount, and release tags do not move. Counts come from the registry's own access log.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class SameRegistryCopyTests
{
    private RegistryServer _registry = null!;
    private RegistryTestClient _raw = null!;
    private EngineHarness _engine = null!;
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

    [Test]
    public async Task Retag_in_one_repository_is_a_read_a_look_and_one_manifest_put()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "retag/app", "build-1", cancellationToken: Ct);
        await _registry.ResetRequestLogAsync(Ct);

        var result = await _engine.CopyAsync(_registry.Reference("retag/app", "build-1"), _registry.Reference("retag/app", "staging"), ct: Ct);

        var seen = await _registry.GetRequestsAsync(Ct);
        Assert.That(result.Requests.Values.Sum(), Is.LessThanOrEqualTo(3), string.Join(", ", result.Requests));
        Assert.That(seen, Has.Count.LessThanOrEqualTo(3), seen.Show());
        Assert.That(seen.Writes().Select(r => (r.Method, r.Path)),
            Is.EqualTo(new[] { ("PUT", "/v2/retag/app/manifests/staging") }), seen.Show());
        Assert.That(result.SourceDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(result.PreviousDigest, Is.Null);
        Assert.That((result.BlobsCopied, result.BlobsMounted, result.BytesUploaded), Is.EqualTo((0, 0, 0L)));
        Assert.That(result.BlobsSkipped, Is.EqualTo(image.Blobs.Count));
        Assert.That(result.ManifestsPushed, Is.EqualTo(1));
        Assert.That(await _raw.GetManifestDigestAsync("retag/app", "staging", Ct), Is.EqualTo(image.Digest));
    }

    [Test]
    public async Task Copy_to_another_repository_mounts_every_blob_and_uploads_nothing()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "team/builds", "abc123", layerCount: 3, layerSize: 8 * 1024, cancellationToken: Ct);
        await _registry.ResetRequestLogAsync(Ct);

        var result = await _engine.CopyAsync(_registry.Reference("team/builds", "abc123"), _registry.Reference("team/staging", "abc123"), ct: Ct);

        // Every blob, config included (three layers and a config), is linked, not transferred.
        Assert.That(result.BlobsMounted, Is.EqualTo(image.Layers.Count + 1));
        Assert.That(result.BlobsCopied, Is.Zero);
        Assert.That(result.BytesUploaded, Is.Zero);
        var seen = await _registry.GetRequestsAsync(Ct);
        var mounts = seen.Where(r => r.Method == "POST" && r.Path.Contains("mount=")).ToList();
        Assert.That(mounts, Has.Count.EqualTo(image.Blobs.Count), seen.Show());
        Assert.That(mounts.Select(r => r.Status), Is.All.EqualTo(201), "the registry linked each blob");
        Assert.That(seen.Where(r => r.Method is "PATCH" || (r.Method == "PUT" && r.Path.Contains("/blobs/uploads/"))), Is.Empty, seen.Show());
        Assert.That(await _raw.GetManifestDigestAsync("team/staging", "abc123", Ct), Is.EqualTo(image.Digest));
        foreach (var blob in image.Blobs)
            Assert.That(await _raw.BlobExistsAsync("team/staging", blob.Digest, Ct), Is.True, blob.Digest.ToString());
    }

    [Test]
    public async Task A_release_tag_does_not_move_when_the_environment_forbids_it()
    {
        var released = await TestImages.PushRandomImageAsync(_registry, "prod/app", "1.0.0", layerCount: 1, cancellationToken: Ct);
        var candidate = await TestImages.PushRandomImageAsync(_registry, "prod/app", "build-2", layerCount: 1, cancellationToken: Ct);
        await _registry.ResetRequestLogAsync(Ct);

        var ex = Assert.ThrowsAsync<PromotionConflictException>(() => _engine.CopyAsync(
            _registry.Reference("prod/app", "build-2"), _registry.Reference("prod/app", "1.0.0"),
            new CopyOptions { AllowTagMove = false }, Ct))!;

        Assert.That(ex.Message, Does.Contain($"{_registry.Host}/prod/app:1.0.0"));
        Assert.That(ex.Message, Does.Contain(released.Digest.ToString()));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        var seen = await _registry.GetRequestsAsync(Ct);
        Assert.That(seen.Writes(), Is.Empty, seen.Show());
        Assert.That(await _raw.GetManifestDigestAsync("prod/app", "1.0.0", Ct), Is.EqualTo(released.Digest));

        // The same copy where moving is allowed reports what the tag pointed at.
        var moved = await _engine.CopyAsync(_registry.Reference("prod/app", "build-2"), _registry.Reference("prod/app", "1.0.0"), ct: Ct);
        Assert.That(moved.PreviousDigest, Is.EqualTo(released.Digest.ToString()));
        Assert.That(await _raw.GetManifestDigestAsync("prod/app", "1.0.0", Ct), Is.EqualTo(candidate.Digest));
    }

    [Test]
    public async Task Copying_onto_a_tag_that_already_has_the_digest_is_not_a_move()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "pinned/app", "1.0.0", layerCount: 1, cancellationToken: Ct);
        await _registry.ResetRequestLogAsync(Ct);

        var result = await _engine.CopyAsync(_registry.Reference("pinned/app", image.Digest.ToString()), _registry.Reference("pinned/app", "1.0.0"),
            new CopyOptions { AllowTagMove = false }, Ct);

        Assert.That(result.UpToDate, Is.True);
        Assert.That(result.PreviousDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That((await _registry.GetRequestsAsync(Ct)).Writes(), Is.Empty);
    }

    [Test]
    public void A_missing_source_tag_fails_with_one_line_naming_it()
    {
        var ex = Assert.CatchAsync<PromotionException>(() => _engine.CopyAsync(
            _registry.Reference("nothing/here", "v9"), _registry.Reference("nothing/there", "v9"), ct: Ct))!;

        Assert.That(ex, Is.Not.InstanceOf<PromotionConflictException>());
        Assert.That(ex.Message, Does.Contain($"{_registry.Host}/nothing/here:v9"));
        Assert.That(ex.Message, Does.Contain("does not exist"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That(ex.Transient, Is.False);
    }

    [Test]
    public async Task Dry_run_plans_mounts_and_writes_nothing()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "dry/src", "v1", layerCount: 2, cancellationToken: Ct);
        await _registry.ResetRequestLogAsync(Ct);

        var plan = await _engine.PlanAsync(_registry, "dry/src", "v1", _registry.Reference("dry/dst", "v1"), ct: Ct);
        var result = await _engine.CopyAsync(_registry.Reference("dry/src", "v1"), _registry.Reference("dry/dst", "v1"),
            new CopyOptions { DryRun = true }, Ct);

        Assert.That(plan.UpToDate, Is.False);
        Assert.That(plan.Blobs.Select(b => (b.Blob.Digest, b.Action)),
            Is.EquivalentTo(image.Blobs.Select(b => (b.Digest, BlobAction.Mount))));
        Assert.That(plan.Tag.Previous, Is.Null);
        Assert.That(plan.Describe(), Has.Some.Contains("mount: from dry/src"));
        Assert.That(plan.Describe().Last(), Does.Contain("tag v1: (new) -> " + image.Digest));
        Assert.That(result.DryRun, Is.True);
        Assert.That((result.BlobsMounted, result.BlobsCopied, result.ManifestsPushed), Is.EqualTo((0, 0, 0)));
        Assert.That(result.DestinationDigest, Is.Null);
        var seen = await _registry.GetRequestsAsync(Ct);
        Assert.That(seen.Writes(), Is.Empty, seen.Show());
        Assert.That(await _raw.HeadManifestAsync("dry/dst", "v1", Ct), Is.Null);
        Assert.That(await _raw.BlobExistsAsync("dry/dst", image.Layers[0].Digest, Ct), Is.False);
    }
}
