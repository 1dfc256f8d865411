using System.Text;
using System.Text.Json.Nodes;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Evidence.Signing;

/// <summary>Signing and verifying statements: PAE, the bundle layout, and every verdict with its reason line.</summary>
[TestFixture]
public sealed class BundleVerifierTests
{
    private TestKeys _keys = null!;
    private SigningKey _scan = null!;
    private SigningKey _attacker = null!;
    private static readonly Digest Image = Digest.Sha256("the image"u8);
    private static readonly Digest Other = Digest.Sha256("another image"u8);

    [OneTimeSetUp]
    public void MakeKeys()
    {
        _keys = new TestKeys();
        _scan = _keys.Generate(KeyRole.Scan, "scan");
        _attacker = _keys.Generate(KeyRole.Scan, "attacker");
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        _scan.Dispose();
        _attacker.Dispose();
        _keys.Dispose();
    }

    private static InTotoStatement Scan(Digest about) =>
        InTotoStatement.About(ImageReference.Parse($"registry.example.com/team/app@{about}"), EvidenceKind.ScanResult,
            Encoding.UTF8.GetBytes($$"""{"imageDigest":"{{about}}","passed":true}"""));

    [Test]
    public void Pre_authentication_encoding_is_the_dsse_v1_layout()
    {
        // The DSSE protocol's own example: PAE("http://example.com/HelloWorld", "hello world").
        var pae = DsseEnvelope.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8);
        Assert.That(Encoding.ASCII.GetString(pae), Is.EqualTo("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
    }

    [Test]
    public void A_signed_statement_is_a_v0_3_bundle_with_a_key_hint_and_no_tlog_entries()
    {
        var bundle = _scan.SignStatement(Scan(Image));
        var json = JsonNode.Parse(bundle.ToJsonBytes())!;
        Assert.That(json["mediaType"]!.GetValue<string>(), Is.EqualTo("application/vnd.dev.sigstore.bundle.v0.3+json"));
        Assert.That(json["verificationMaterial"]!["publicKey"]!["hint"]!.GetValue<string>(), Is.EqualTo(_scan.KeyId));
        Assert.That(json["verificationMaterial"]!["tlogEntries"]!.AsArray(), Is.Empty);
        var envelope = json["dsseEnvelope"]!;
        Assert.That(envelope["payloadType"]!.GetValue<string>(), Is.EqualTo("application/vnd.in-toto+json"));
        Assert.That(envelope["signatures"]!.AsArray(), Has.Count.EqualTo(1));
        var statement = JsonNode.Parse(Convert.FromBase64String(envelope["payload"]!.GetValue<string>()))!;
        Assert.That(statement["_type"]!.GetValue<string>(), Is.EqualTo("https://in-toto.io/Statement/v1"));
        Assert.That(statement["subject"]![0]!["name"]!.GetValue<string>(), Is.EqualTo("registry.example.com/team/app"));
        Assert.That(statement["subject"]![0]!["digest"]!["sha256"]!.GetValue<string>(), Is.EqualTo(Image.Encoded));
        Assert.That(statement["predicateType"]!.GetValue<string>(), Is.EqualTo(EvidenceKind.ScanResult.PredicateType));
    }

    [Test]
    public void A_piece_signed_by_a_trusted_key_about_the_digest_is_trusted()
    {
        var verdict = BundleVerifier.Verify(_scan.SignStatement(Scan(Image)).ToJsonBytes(), Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.Trusted), verdict.Reason);
        Assert.That(verdict.KeyId, Is.EqualTo(_scan.KeyId));
        Assert.That(verdict.Reason, Is.EqualTo($"scan result about {Image} signed by key {_scan.KeyId}, trusted for scan results"));
        Assert.That(verdict.Statement!.Predicate["passed"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public void A_piece_signed_by_another_key_is_untrusted_and_the_reason_names_kind_digest_and_key()
    {
        var verdict = BundleVerifier.Verify(_attacker.SignStatement(Scan(Image)).ToJsonBytes(), Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.UntrustedKey));
        Assert.That(verdict.KeyId, Is.EqualTo(_attacker.KeyId));
        Assert.That(verdict.Reason, Is.EqualTo($"scan result about {Image} signed by key {_attacker.KeyId}, which is not trusted for scan results"));
    }

    [Test]
    public void With_no_trusted_key_nothing_is_trusted()
    {
        var verdict = BundleVerifier.Verify(_scan.SignStatement(Scan(Image)).ToJsonBytes(), Image, EvidenceKind.ScanResult, []);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.UntrustedKey));
        Assert.That(verdict.Reason, Does.EndWith("(no key is trusted for them)"));
    }

    [Test]
    public void A_statement_altered_after_signing_has_a_bad_signature()
    {
        var bundle = _scan.SignStatement(Scan(Image));
        var forged = Scan(Image) with { Predicate = new JsonObject { ["imageDigest"] = Image.ToString(), ["passed"] = true, ["critical"] = 0 } };
        var tampered = bundle with { Envelope = bundle.Envelope with { Payload = forged.ToJsonBytes() } };
        var verdict = BundleVerifier.Verify(tampered.ToJsonBytes(), Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.BadSignature));
        Assert.That(verdict.Reason, Does.Contain($"claims key {_scan.KeyId}"));
    }

    [Test]
    public void A_hint_naming_the_trusted_key_on_an_attackers_signature_is_a_bad_signature()
    {
        var bundle = _attacker.SignStatement(Scan(Image)) with { KeyHint = _scan.KeyId };
        var verdict = BundleVerifier.Verify(bundle.ToJsonBytes(), Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.BadSignature));
    }

    [Test]
    public void A_trusted_piece_replayed_onto_another_digest_is_about_another_subject()
    {
        var verdict = BundleVerifier.Verify(_scan.SignStatement(Scan(Other)).ToJsonBytes(), Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.OtherSubject));
        Assert.That(verdict.Reason, Is.EqualTo($"scan result signed by key {_scan.KeyId} is about {Other}, not {Image}: a piece replayed from another image"));
    }

    [Test]
    public void A_trusted_piece_of_another_kind_is_the_wrong_kind()
    {
        var record = InTotoStatement.About(ImageReference.Parse($"r.example.com/app@{Image}"), EvidenceKind.PromotionRecord, "{\"to\":\"staging\"}"u8);
        var verdict = BundleVerifier.Verify(_scan.SignStatement(record).ToJsonBytes(), Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.WrongKind));
        Assert.That(verdict.Reason, Does.Contain("promotion record").And.Contain("is not a scan result"));
    }

    [Test]
    public void An_envelope_without_signatures_is_unsigned_and_says_how_to_renew_it()
    {
        var bundle = _scan.SignStatement(Scan(Image));
        var bare = bundle with { Envelope = bundle.Envelope with { Signatures = [] } };
        var verdict = BundleVerifier.Verify(bare.ToJsonBytes(), Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.Unsigned));
        Assert.That(verdict.Reason, Does.Contain("--target=Scan"));
    }

    [Test]
    public void Something_that_is_not_a_bundle_is_malformed()
    {
        var verdict = BundleVerifier.Verify("{\"imageDigest\":\"x\"}"u8, Image, EvidenceKind.ScanResult, [_scan.PublicKey]);
        Assert.That(verdict.Trust, Is.EqualTo(EvidenceTrust.Malformed));
    }
}
