using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Evidence;

/// <summary>
/// Evidence on a registry whose tags are immutable (a proxy of ours answering 400 TAG_INVALID, as ECR IMMUTABLE does, in
/// front of distribution 2.8, which has no referrers API): the tag schema index cannot be rewritten, so later pieces go
/// under overflow tags that readers union; nothing is lost, a re-run writes nothing, a failed write does not stick.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ImmutableTagsTests
{
    private RegistryServer _registry = null!;
    private FaultProxy _proxy = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _registry = await RegistryServer.StartAsync();
        _proxy = await FaultProxy.StartAsync(_registry);
    }

    [SetUp]
    public void Immutable()
    {
        _proxy.ClearFaults();
        _proxy.Inject("PUT", FaultProxy.TagManifestPath, FaultAction.ImmutableTag(), FaultProxy.Always);
        _proxy.ResetRequests();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _proxy.DisposeAsync();
        await _registry.DisposeAsync();
    }

    private ImagePromotion.Registry.Transport.RegistryTransport Transport() =>
        new(new ImagePromotion.Registry.Transport.TransportOptions { InsecureRegistries = new HashSet<string> { _proxy.Host, _registry.Host } });

    private static EvidencePiece Approval(Digest digest, string login) => new(EvidenceTypes.ApprovalDecision,
        JsonSerializer.SerializeToUtf8Bytes(new { digest = digest.ToString(), environment = "production", login, commitId = "c0ffee" }));

    [Test]
    public async Task Every_piece_is_stored_and_found_when_the_fallback_tag_cannot_be_rewritten()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "prod/app", "production");
        var reference = ImageReference.Parse($"{_proxy.Host}/prod/app@{image.Digest}");
        using var transport = Transport();
        var store = new EvidenceStore(transport, new MemoryLog());
        var pushed = new List<Descriptor>();
        foreach (var login in new[] { "alice", "bob", "carol" })
            pushed.Add(await store.PushAsync(reference, Approval(image.Digest, login), CancellationToken.None));

        var refused = _proxy.Requests.Where(r => r.Method == "PUT" && r.Status == 400).Select(r => r.PathAndQuery).ToArray();
        Assert.That(refused, Has.Length.GreaterThanOrEqualTo(1), "the proxy did refuse to rewrite the fallback tag");
        Assert.That(refused, Has.All.EndsWith("/manifests/sha256-" + image.Digest.Encoded));
        using var raw = _registry.CreateClient();
        var tags = await raw.ListTagsAsync("prod/app");
        Assert.That(tags, Is.SupersetOf(new[] { "sha256-" + image.Digest.Encoded, $"sha256-{image.Digest.Encoded}.referrers.1", $"sha256-{image.Digest.Encoded}.referrers.2" }));

        // Another reader, straight at the registry: the union of the base and overflow tags.
        using var fresh = new ImagePromotion.Registry.Transport.RegistryTransport(new ImagePromotion.Registry.Transport.TransportOptions { InsecureRegistries = new HashSet<string> { _registry.Host } });
        var listed = await new EvidenceStore(fresh, new MemoryLog()).ListAsync(ImageReference.Parse($"{_registry.Host}/prod/app@{image.Digest}"), EvidenceKind.ApprovalDecision, CancellationToken.None);
        Assert.That(listed.Select(e => e.Manifest.Digest), Is.EquivalentTo(pushed.Select(p => p.Digest)));
    }

    [Test]
    public async Task A_rerun_of_the_same_evidence_writes_nothing()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "prod/rerun", "production");
        var reference = ImageReference.Parse($"{_proxy.Host}/prod/rerun@{image.Digest}");
        using var transport = Transport();
        var store = new EvidenceStore(transport, new MemoryLog());
        await store.PushAsync(reference, Approval(image.Digest, "alice"), CancellationToken.None);
        await store.PushAsync(reference, Approval(image.Digest, "bob"), CancellationToken.None);
        _proxy.ResetRequests();

        await store.PushAsync(reference, Approval(image.Digest, "alice"), CancellationToken.None);
        await store.PushAsync(reference, Approval(image.Digest, "bob"), CancellationToken.None);
        Assert.That(_proxy.Requests.Where(r => r.Method is "PUT" or "POST" or "PATCH"), Is.Empty);
    }

    [Test]
    public async Task A_write_that_fails_half_way_does_not_make_every_retry_fail()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "prod/retry", "production");
        var reference = ImageReference.Parse($"{_proxy.Host}/prod/retry@{image.Digest}");
        using var transport = Transport();
        var store = new EvidenceStore(transport, new MemoryLog());
        await store.PushAsync(reference, Approval(image.Digest, "alice"), CancellationToken.None);
        // The overflow index write breaks (the artifact manifest itself is already stored by digest).
        _proxy.ClearFaults();
        var broken = _proxy.Inject("PUT", @"\.referrers\.1$", FaultAction.Status(403), FaultProxy.Always);
        _proxy.Inject("PUT", FaultProxy.TagManifestPath, FaultAction.ImmutableTag(), FaultProxy.Always);
        var ex = Assert.ThrowsAsync<ImagePromotion.PromotionException>(() => store.PushAsync(reference, Approval(image.Digest, "bob"), CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("referrers.1").And.Contain("403"));
        Assert.That(broken.Hits, Is.GreaterThanOrEqualTo(1));

        Immutable(); // the fault is gone; the registry still refuses to rewrite tags
        await store.PushAsync(reference, Approval(image.Digest, "bob"), CancellationToken.None);
        var logins = new List<string>();
        foreach (var e in await store.ListAsync(reference, EvidenceKind.ApprovalDecision, CancellationToken.None))
            logins.Add(JsonDocument.Parse((await store.VerifyAsync(reference, e, CancellationToken.None)).Content!).RootElement.GetProperty("login").GetString()!);
        Assert.That(logins, Is.EquivalentTo(new[] { "alice", "bob" }));
    }

    [Test]
    public async Task Evidence_copied_into_an_immutable_repository_that_already_has_an_index_goes_to_an_overflow_tag_in_one_write()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "dev/copy", "staging");
        var source = ImageReference.Parse($"{_registry.Host}/dev/copy@{image.Digest}");
        var destination = ImageReference.Parse($"{_proxy.Host}/prod/copy:production");
        using var transport = Transport();
        var store = new EvidenceStore(transport, new MemoryLog());
        foreach (var login in new[] { "alice", "bob", "carol" })
            await store.PushAsync(source, Approval(image.Digest, login), CancellationToken.None);
        await new ImagePromotion.Copy.ImageCopier(transport, new MemoryLog()).CopyAsync(source, destination, new ImagePromotion.Copy.CopyOptions(), CancellationToken.None);
        // A record attached in production first: the base fallback tag exists and cannot change.
        await store.PushAsync(destination.WithDigest(image.Digest), Approval(image.Digest, "dave"), CancellationToken.None);
        _proxy.ResetRequests();

        Assert.That(await store.CopyAsync(source, destination, CancellationToken.None), Is.EqualTo(3));
        var indexWrites = _proxy.Requests.Where(r => r.Method == "PUT" && r.Status is >= 200 and < 300 && r.PathAndQuery.Contains("/manifests/sha256-")).ToArray();
        Assert.That(indexWrites.Select(r => r.PathAndQuery), Is.EqualTo(new[] { $"/v2/prod/copy/manifests/sha256-{image.Digest.Encoded}.referrers.1" }));
        Assert.That(await store.ListAsync(destination.WithDigest(image.Digest), EvidenceKind.ApprovalDecision, CancellationToken.None), Has.Count.EqualTo(4));
        Assert.That(await store.CopyAsync(source, destination, CancellationToken.None), Is.EqualTo(0), "a re-run copies nothing");
    }
}
