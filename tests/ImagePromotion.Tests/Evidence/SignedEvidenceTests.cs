using System.Text;
using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Evidence.Signing;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Evidence;

/// <summary>Signed evidence in a real registry: the bundle layout, verdicts from the registry alone, earlier unsigned artifacts, re-runs.</summary>
[TestFixture]
public sealed class SignedEvidenceTests
{
    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private TestKeys _keys = null!;
    private string _scanPem = null!;
    private string _approvalPem = null!;
    private VerificationKey _scanPublic = null!;
    private VerificationKey _approvalPublic = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _dev = await RegistryServer.StartAsync();
        _prod = await RegistryServer.StartAsync();
        _keys = new TestKeys();
        var dir = Path.Combine(_keys.Directory, "pipeline");
        var scan = KeyPairs.Ensure(dir, KeyRole.Scan).Pair;
        var approval = KeyPairs.Ensure(dir, KeyRole.Approval).Pair;
        _scanPem = await File.ReadAllTextAsync(scan.PrivateKeyPath);
        _approvalPem = await File.ReadAllTextAsync(approval.PrivateKeyPath);
        _scanPublic = VerificationKey.FromFile(scan.PublicKeyPath);
        _approvalPublic = VerificationKey.FromFile(approval.PublicKeyPath);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _dev.DisposeAsync();
        await _prod.DisposeAsync();
        _scanPublic.Dispose();
        _approvalPublic.Dispose();
        _keys.Dispose();
    }

    private EvidenceSigners Signers() => new(new Dictionary<string, string?>
    {
        ["PROMOTION_SIGNING_KEY_SCAN"] = _scanPem, ["PROMOTION_SIGNING_KEY_APPROVAL"] = _approvalPem,
    }, new SecretRedactor());

    private TrustedKeys Trust() => new(new Dictionary<EvidenceKind, IReadOnlyList<VerificationKey>>
    {
        [EvidenceKind.ScanResult] = [_scanPublic], [EvidenceKind.ApprovalDecision] = [_approvalPublic],
    });

    private static byte[] ScanJson(Digest digest, bool passed = true) =>
        Encoding.UTF8.GetBytes($$"""{"schemaVersion":1,"imageDigest":"{{digest}}","scannedAt":"2026-11-23T12:00:00Z","passed":{{(passed ? "true" : "false")}},"reasons":[],"scannersRun":[{"name":"builtin-secrets","succeeded":true,"findings":0}],"scannersSkipped":[],"counts":{"critical":0,"high":0,"medium":0,"low":0,"unknown":0,"info":0},"findings":[]}""");

    [Test]
    public async Task A_signed_piece_is_a_sigstore_bundle_referrer_as_cosign_attaches_one_and_verifies_from_the_registry_alone()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/signed", "v1");
        var reference = ImageReference.Parse($"{_dev.Host}/team/signed@{image.Digest}");
        using (var transport = EvidenceStoreTests.Transport(_dev))
        using (var signers = Signers())
        {
            var log = new MemoryLog();
            await new EvidenceStore(transport, log, signers: signers).PushAsync(reference, new EvidencePiece(EvidenceTypes.ScanResult, ScanJson(image.Digest)), CancellationToken.None);
            Assert.That(log.Lines, Has.None.Contains("UNSIGNED"));
        }

        using var raw = _dev.CreateClient();
        var index = (await raw.GetManifestAsync("team/signed", "sha256-" + image.Digest.Encoded))!.Json.GetProperty("manifests");
        var entry = index[0];
        Assert.That(entry.GetProperty("artifactType").GetString(), Is.EqualTo("application/vnd.dev.sigstore.bundle.v0.3+json"));
        Assert.That(entry.GetProperty("annotations").GetProperty("dev.sigstore.bundle.content").GetString(), Is.EqualTo("dsse-envelope"));
        Assert.That(entry.GetProperty("annotations").GetProperty("dev.sigstore.bundle.predicateType").GetString(), Is.EqualTo(EvidenceKind.ScanResult.PredicateType));
        var manifest = (await raw.GetManifestAsync("team/signed", entry.GetProperty("digest").GetString()!))!.Json;
        Assert.That(manifest.GetProperty("layers")[0].GetProperty("mediaType").GetString(), Is.EqualTo("application/vnd.dev.sigstore.bundle.v0.3+json"));
        Assert.That(manifest.GetProperty("subject").GetProperty("digest").GetString(), Is.EqualTo(image.Digest.ToString()));

        // Another machine, nothing but the registry and the public keys.
        using var fresh = EvidenceStoreTests.Transport(_dev);
        var judged = await new EvidenceStore(fresh, new MemoryLog()).ReadAsync(reference, EvidenceKind.ScanResult, Trust(), CancellationToken.None);
        Assert.That(judged, Has.Count.EqualTo(1));
        Assert.That(judged[0].Verdict.Trust, Is.EqualTo(EvidenceTrust.Trusted), judged[0].Verdict.Reason);
        Assert.That(judged[0].Verdict.KeyId, Is.EqualTo(_scanPublic.KeyId));
        Assert.That(ImagePromotion.Scanning.ScanResult.FromJson(judged[0].Predicate!).ImageDigest, Is.EqualTo(image.Digest.ToString()));
    }

    [Test]
    public async Task Without_the_roles_key_a_piece_is_attached_unsigned_and_the_warning_names_the_variable()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/nokey", "v1");
        var reference = ImageReference.Parse($"{_dev.Host}/team/nokey@{image.Digest}");
        using var transport = EvidenceStoreTests.Transport(_dev);
        var log = new MemoryLog();
        var store = new EvidenceStore(transport, log);
        await store.PushAsync(reference, new EvidencePiece(EvidenceTypes.ScanResult, ScanJson(image.Digest)), CancellationToken.None);
        Assert.That(log.Lines, Has.Some.Contains("attached UNSIGNED").And.Contains("PROMOTION_SIGNING_KEY_SCAN"));
        var judged = await store.ReadAsync(reference, EvidenceKind.ScanResult, Trust(), CancellationToken.None);
        Assert.That(judged.Single().Verdict.Trust, Is.EqualTo(EvidenceTrust.Unsigned));
    }

    [Test]
    public async Task Unsigned_artifacts_of_earlier_versions_are_listed_as_unsigned_with_one_line_on_renewing_them()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/legacy", "v1");
        var reference = ImageReference.Parse($"{_dev.Host}/team/legacy@{image.Digest}");
        using var transport = EvidenceStoreTests.Transport(_dev);
        await LegacyEvidence.AttachAsync(transport, reference, EvidenceTypes.ScanResult, ScanJson(image.Digest));
        await LegacyEvidence.AttachAsync(transport, reference, EvidenceTypes.ApprovalDecision,
            JsonSerializer.SerializeToUtf8Bytes(new { digest = image.Digest.ToString(), environment = "production", login = "alice", commitId = "abc" }));

        var store = new EvidenceStore(transport, new MemoryLog());
        var scans = await store.ReadAsync(reference, EvidenceKind.ScanResult, Trust(), CancellationToken.None);
        Assert.That(scans.Single().Entry.Format, Is.EqualTo(EvidenceFormat.Legacy));
        Assert.That(scans.Single().Verdict.Trust, Is.EqualTo(EvidenceTrust.Unsigned));
        Assert.That(scans.Single().Verdict.Reason, Is.EqualTo($"unsigned scan result written by an earlier version about {image.Digest}: not counted; {EvidenceKind.ScanResult.Renew}"));
        var approvals = await store.ReadAsync(reference, EvidenceKind.ApprovalDecision, Trust(), CancellationToken.None);
        Assert.That(approvals.Single().Verdict.Reason, Does.Contain("re-approve"));
        // The content is still readable (the Evidence target shows it), only never counted.
        Assert.That(approvals.Single().Predicate, Is.Not.Null);
    }

    [Test]
    public async Task Pieces_forged_with_push_rights_are_named_for_what_they_are()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/forged", "v1");
        var other = await TestImages.PushRandomImageAsync(_dev, "team/forged", "v2");
        var reference = ImageReference.Parse($"{_dev.Host}/team/forged@{image.Digest}");
        var otherRef = ImageReference.Parse($"{_dev.Host}/team/forged@{other.Digest}");
        using var transport = EvidenceStoreTests.Transport(_dev);
        using var attackerKeys = new TestKeys();
        var attackerPem = await File.ReadAllTextAsync(KeyPairs.Ensure(attackerKeys.Directory, KeyRole.Scan).Pair.PrivateKeyPath);
        using var attacker = new EvidenceSigners(new Dictionary<string, string?> { ["PROMOTION_SIGNING_KEY_SCAN"] = attackerPem }, new SecretRedactor());
        using var pipeline = Signers();
        // The attacker's own key; and a trusted scan of another image replayed here.
        await new EvidenceStore(transport, new MemoryLog(), signers: attacker).PushAsync(reference, new EvidencePiece(EvidenceTypes.ScanResult, ScanJson(image.Digest)), CancellationToken.None);
        var trustedElsewhere = await new EvidenceStore(transport, new MemoryLog(), signers: pipeline).PushAsync(otherRef, new EvidencePiece(EvidenceTypes.ScanResult, ScanJson(other.Digest)), CancellationToken.None);
        var referrers = new ReferrersClient(transport, _dev.Host);
        var replayed = await referrers.Client.GetManifestAsync("team/forged", trustedElsewhere.Digest.ToString(), trustedElsewhere.Digest, CancellationToken.None);
        await referrers.AddToFallbackAsync("team/forged", image.Digest, [EvidenceArtifact.ReferrerDescriptor(replayed!)], CancellationToken.None);

        var judged = await new EvidenceStore(transport, new MemoryLog()).ReadAsync(reference, EvidenceKind.ScanResult, Trust(), CancellationToken.None);
        Assert.That(judged.Select(j => j.Verdict.Trust), Is.EquivalentTo(new[] { EvidenceTrust.UntrustedKey, EvidenceTrust.OtherSubject }));
        Assert.That(judged.Single(j => j.Verdict.Trust == EvidenceTrust.UntrustedKey).Verdict.Reason, Does.Contain("which is not trusted for scan results"));
        Assert.That(judged.Single(j => j.Verdict.Trust == EvidenceTrust.OtherSubject).Verdict.Reason, Does.Contain(other.Digest.ToString()));
        Assert.That(judged, Has.None.Matches<JudgedEvidence>(j => j.IsTrusted));
    }

    [Test]
    public async Task Attaching_the_same_statement_with_the_same_key_again_writes_nothing_and_signed_pieces_travel_intact()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/rerun", "v1");
        var reference = ImageReference.Parse($"{_dev.Host}/team/rerun@{image.Digest}");
        var approval = JsonSerializer.SerializeToUtf8Bytes(new { digest = image.Digest.ToString(), environment = "production", login = "alice", commitId = "c0ffee" });
        using var transport = EvidenceStoreTests.Transport(_dev, _prod);
        using var signers = Signers();
        var store = new EvidenceStore(transport, new MemoryLog(), signers: signers);
        var first = await store.PushAsync(reference, new EvidencePiece(EvidenceTypes.ApprovalDecision, approval), CancellationToken.None);
        await _dev.ResetRequestLogAsync();
        var second = await store.PushAsync(reference, new EvidencePiece(EvidenceTypes.ApprovalDecision, approval), CancellationToken.None);
        Assert.That(second.Digest, Is.EqualTo(first.Digest));
        var requests = await _dev.GetRequestsAsync();
        Assert.That(requests.Where(r => r.Method is "PUT" or "POST" or "PATCH" or "DELETE"), Is.Empty, "a re-run writes nothing");

        var destination = ImageReference.Parse($"{_prod.Host}/team/rerun:production");
        await new ImagePromotion.Copy.ImageCopier(transport, new MemoryLog()).CopyAsync(reference, destination, new ImagePromotion.Copy.CopyOptions(), CancellationToken.None);
        Assert.That(await store.CopyAsync(reference, destination, CancellationToken.None), Is.EqualTo(1));
        var atProd = await new EvidenceStore(transport, new MemoryLog()).ReadAsync(destination.WithDigest(image.Digest), EvidenceKind.ApprovalDecision, Trust(), CancellationToken.None);
        Assert.That(atProd.Single().Verdict.Trust, Is.EqualTo(EvidenceTrust.Trusted), atProd.Single().Verdict.Reason);
    }
}
