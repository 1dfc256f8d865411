using System.Text;
using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Evidence;

/// <summary>Evidence as OCI artifacts against distribution 2.8 (no referrers API: the tag schema fallback).</summary>
[TestFixture]
public sealed class EvidenceStoreTests
{
    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;

    [OneTimeSetUp]
    public async Task StartRegistries()
    {
        _dev = await RegistryServer.StartAsync();
        _prod = await RegistryServer.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopRegistries()
    {
        await _dev.DisposeAsync();
        await _prod.DisposeAsync();
    }

    internal static RegistryTransport Transport(params RegistryServer[] servers) =>
        new(new TransportOptions { InsecureRegistries = servers.Select(s => s.Host).ToHashSet(StringComparer.OrdinalIgnoreCase) });

    internal static byte[] Record(Digest digest, string note) =>
        JsonSerializer.SerializeToUtf8Bytes(new { digest = digest.ToString(), note });

    [Test]
    public async Task Pushed_evidence_is_an_oci_artifact_whose_subject_is_the_image_listed_through_the_fallback_tag()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/app", "v1");
        using var transport = Transport(_dev);
        var store = new EvidenceStore(transport, new MemoryLog());
        var reference = ImageReference.Parse($"{_dev.Host}/team/app@{image.Digest}");

        var pushed = await store.PushAsync(reference, new EvidencePiece(EvidenceTypes.PromotionRecord, Record(image.Digest, "one")), CancellationToken.None);

        using var raw = _dev.CreateClient();
        var manifest = (await raw.GetManifestAsync("team/app", pushed.Digest.ToString()))!.Json;
        // Without a promotion key the record is a bare in-toto statement (unsigned): BuildKit's layout.
        Assert.That(manifest.GetProperty("artifactType").GetString(), Is.EqualTo(EvidenceTypes.Statement));
        Assert.That(manifest.GetProperty("layers")[0].GetProperty("mediaType").GetString(), Is.EqualTo("application/vnd.in-toto+json"));
        Assert.That(manifest.GetProperty("annotations").GetProperty("in-toto.io/predicate-type").GetString(), Is.EqualTo(EvidenceKind.PromotionRecord.PredicateType));
        Assert.That(manifest.GetProperty("config").GetProperty("mediaType").GetString(), Is.EqualTo("application/vnd.oci.empty.v1+json"));
        Assert.That(manifest.GetProperty("config").GetProperty("digest").GetString(), Is.EqualTo("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
        Assert.That(manifest.GetProperty("config").GetProperty("size").GetInt32(), Is.EqualTo(2));
        Assert.That(manifest.GetProperty("layers").GetArrayLength(), Is.EqualTo(1));
        Assert.That(manifest.GetProperty("subject").GetProperty("digest").GetString(), Is.EqualTo(image.Digest.ToString()));
        Assert.That(manifest.GetProperty("subject").GetProperty("size").GetInt32(), Is.EqualTo(image.ManifestBytes.Length));
        Assert.That(manifest.GetProperty("annotations").TryGetProperty("org.opencontainers.image.created", out _), Is.True);

        // distribution 2.8 has no referrers API: the evidence is indexed under the tag schema.
        var index = (await raw.GetManifestAsync("team/app", "sha256-" + image.Digest.Encoded))!;
        Assert.That(index.MediaType, Is.EqualTo(MediaTypes.OciIndex));
        var entry = index.Json.GetProperty("manifests")[0];
        Assert.That(entry.GetProperty("digest").GetString(), Is.EqualTo(pushed.Digest.ToString()));
        Assert.That(entry.GetProperty("artifactType").GetString(), Is.EqualTo(EvidenceTypes.Statement));

        var listed = await store.ListAsync(reference, (string?)null, CancellationToken.None);
        Assert.That(listed.Select(e => e.Manifest.Digest), Is.EqualTo(new[] { pushed.Digest }));
        var verified = await store.VerifyAsync(reference, listed[0], CancellationToken.None);
        Assert.That(verified.Verified, Is.True, verified.Detail);
        Assert.That(Encoding.UTF8.GetString(verified.Content!), Does.Contain("\"note\":\"one\""));
    }

    [Test]
    public async Task List_filters_by_artifact_type_and_a_second_push_keeps_the_first_in_the_index()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/filter", "v1");
        using var transport = Transport(_dev);
        var store = new EvidenceStore(transport, new MemoryLog());
        var reference = ImageReference.Parse($"{_dev.Host}/team/filter@{image.Digest}");
        await store.PushAsync(reference, new EvidencePiece(EvidenceTypes.PromotionRecord, Record(image.Digest, "a")), CancellationToken.None);
        await store.PushAsync(reference, new EvidencePiece(EvidenceTypes.ApprovalDecision, Record(image.Digest, "b")), CancellationToken.None);

        Assert.That(await store.ListAsync(reference, (string?)null, CancellationToken.None), Has.Count.EqualTo(2));
        var approvals = await store.ListAsync(reference, EvidenceTypes.ApprovalDecision, CancellationToken.None);
        Assert.That(approvals.Select(a => a.Kind), Is.EqualTo(new[] { EvidenceKind.ApprovalDecision }));
    }

    [Test]
    public async Task Evidence_about_another_digest_planted_in_the_index_fails_verification()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/tamper", "v1");
        var other = await TestImages.PushRandomImageAsync(_dev, "team/tamper", "v2");
        using var transport = Transport(_dev);
        var store = new EvidenceStore(transport, new MemoryLog());
        var target = ImageReference.Parse($"{_dev.Host}/team/tamper@{image.Digest}");
        var otherRef = ImageReference.Parse($"{_dev.Host}/team/tamper@{other.Digest}");
        await store.PushAsync(target, new EvidencePiece(EvidenceTypes.PromotionRecord, Record(image.Digest, "real")), CancellationToken.None);
        var foreign = await store.PushAsync(otherRef, new EvidencePiece(EvidenceTypes.PromotionRecord, Record(other.Digest, "foreign")), CancellationToken.None);

        // Someone copies the other image's record into this image's referrers index.
        using var raw = _dev.CreateClient();
        var tag = "sha256-" + image.Digest.Encoded;
        var index = System.Text.Json.Nodes.JsonNode.Parse((await raw.GetManifestAsync("team/tamper", tag))!.Bytes)!;
        index["manifests"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject
        {
            ["mediaType"] = MediaTypes.OciManifest, ["digest"] = foreign.Digest.ToString(), ["size"] = foreign.Size,
            ["artifactType"] = EvidenceTypes.PromotionRecord,
        });
        await raw.PushManifestAsync("team/tamper", tag, MediaTypes.OciIndex, JsonSerializer.SerializeToUtf8Bytes(index));

        var listed = await store.ListAsync(target, (string?)null, CancellationToken.None);
        Assert.That(listed, Has.Count.EqualTo(2));
        var results = new List<VerifiedEvidence>();
        foreach (var e in listed) results.Add(await store.VerifyAsync(target, e, CancellationToken.None));
        Assert.That(results.Count(r => r.Verified), Is.EqualTo(1));
        var bad = results.Single(r => !r.Verified);
        Assert.That(bad.Detail, Does.Contain($"refers to {other.Digest}, not {image.Digest}"));
    }

    [Test]
    public async Task A_record_whose_content_names_another_digest_fails_verification()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/content", "v1");
        using var transport = Transport(_dev);
        var store = new EvidenceStore(transport, new MemoryLog());
        var reference = ImageReference.Parse($"{_dev.Host}/team/content@{image.Digest}");
        var wrong = Digest.Sha256("something else"u8);
        await store.PushAsync(reference, new EvidencePiece(EvidenceTypes.PromotionRecord, Record(wrong, "x")), CancellationToken.None);

        var entry = (await store.ListAsync(reference, (string?)null, CancellationToken.None)).Single();
        var verified = await store.VerifyAsync(reference, entry, CancellationToken.None);
        Assert.That(verified.Verified, Is.False);
        Assert.That(verified.Detail, Does.Contain($"is about {wrong}"));
    }

    [Test]
    public async Task Evidence_travels_with_the_digest_to_another_registry_and_a_fresh_transport_verifies_it()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/travel", "staging");
        var source = ImageReference.Parse($"{_dev.Host}/team/travel@{image.Digest}");
        var destination = ImageReference.Parse($"{_prod.Host}/team/travel:production");
        using (var transport = Transport(_dev, _prod))
        {
            var log = new MemoryLog();
            var store = new EvidenceStore(transport, log);
            await store.PushAsync(source, new EvidencePiece(EvidenceTypes.PromotionRecord, Record(image.Digest, "dev")), CancellationToken.None);
            await store.PushAsync(source, new EvidencePiece(EvidenceTypes.ApprovalDecision, Record(image.Digest, "ok")), CancellationToken.None);
            await new ImagePromotion.Copy.ImageCopier(transport, log).CopyAsync(source, destination, new ImagePromotion.Copy.CopyOptions(), CancellationToken.None);

            Assert.That(await store.CopyAsync(source, destination, CancellationToken.None), Is.EqualTo(2));
            Assert.That(await store.CopyAsync(source, destination, CancellationToken.None), Is.EqualTo(0), "a re-run copies nothing");
        }

        // Another job, another process: nothing but the registry.
        using var fresh = Transport(_prod);
        var reader = new EvidenceStore(fresh, new MemoryLog());
        var atProd = destination.WithDigest(image.Digest);
        var listed = await reader.ListAsync(atProd, (string?)null, CancellationToken.None);
        Assert.That(listed, Has.Count.EqualTo(2));
        foreach (var entry in listed)
        {
            var v = await reader.VerifyAsync(atProd, entry, CancellationToken.None);
            Assert.That(v.Verified, Is.True, v.Detail);
        }
        using var raw = _prod.CreateClient();
        Assert.That(await raw.HeadManifestAsync("team/travel", "sha256-" + image.Digest.Encoded), Is.Not.Null, "the destination got its own fallback index");
    }
}
