using System.Security.Cryptography;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Logging;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Evidence.Signing;

/// <summary>Keys by role: read from a variable or a file, encrypted or not, never printed; ids as cosign computes them.</summary>
[TestFixture]
public sealed class SigningKeyTests
{
    private TestKeys _keys = null!;

    [SetUp] public void Create() => _keys = new TestKeys();
    [TearDown] public void Remove() => _keys.Dispose();

    [Test]
    public async Task The_key_id_is_base64_of_sha256_over_the_public_key_der_as_openssl_computes_it()
    {
        var (_, pub) = await _keys.OpensslAsync("build");
        var der = Path.Combine(_keys.Directory, "build.der");
        await ExternalTool.RunAsync("openssl", ["pkey", "-pubin", "-in", pub, "-outform", "DER", "-out", der]);
        var expected = Convert.ToBase64String(SHA256.HashData(await File.ReadAllBytesAsync(der)));
        using var key = VerificationKey.FromFile(pub);
        Assert.That(key.KeyId, Is.EqualTo(expected));
    }

    [Test]
    public async Task An_openssl_key_from_a_variable_signs_and_its_public_key_file_verifies()
    {
        var (priv, pub) = await _keys.OpensslAsync("scan");
        var redactor = new SecretRedactor();
        var pem = await File.ReadAllTextAsync(priv);
        using var signers = new EvidenceSigners(new Dictionary<string, string?> { ["PROMOTION_SIGNING_KEY_SCAN"] = pem }, redactor);
        var key = signers.For(KeyRole.Scan)!;
        using var trusted = VerificationKey.FromFile(pub);
        Assert.That(key.KeyId, Is.EqualTo(trusted.KeyId));
        Assert.That(signers.For(KeyRole.Build), Is.Null, "a job holds only the keys it is given");
        var envelope = key.Sign("text/plain", "payload"u8.ToArray());
        Assert.That(trusted.Verify(envelope.PreAuthenticationEncoding(), envelope.Signatures[0].Sig), Is.True);
        // Never printed: the PEM and each of its lines are registered secrets.
        Assert.That(redactor.Redact("key: " + pem.Trim()), Is.EqualTo("key: ***"));
        Assert.That(redactor.Redact(pem.Split('\n')[1]), Is.EqualTo("***"));
        Assert.That(key.ToString(), Does.Not.Contain(pem.Split('\n')[1]));
    }

    [Test]
    public async Task An_encrypted_openssl_key_from_a_file_needs_its_passphrase_variable()
    {
        var (priv, _) = await _keys.OpensslAsync("approval", passphrase: "correct horse battery");
        var env = new Dictionary<string, string?> { ["PROMOTION_SIGNING_KEY_APPROVAL_FILE"] = priv };
        using (var none = new EvidenceSigners(env, new SecretRedactor()))
        {
            var ex = Assert.Throws<ImagePromotion.PromotionException>(() => none.For(KeyRole.Approval));
            Assert.That(ex!.Message, Does.Contain("encrypted private key: set PROMOTION_SIGNING_KEY_APPROVAL_PASSPHRASE"));
        }
        env["PROMOTION_SIGNING_KEY_APPROVAL_PASSPHRASE"] = "wrong passphrase";
        using (var wrong = new EvidenceSigners(env, new SecretRedactor()))
        {
            var ex = Assert.Throws<ImagePromotion.PromotionException>(() => wrong.For(KeyRole.Approval));
            Assert.That(ex!.Message, Does.Contain("does not decrypt").And.Not.Contain("wrong passphrase"));
        }
        env["PROMOTION_SIGNING_KEY_APPROVAL_PASSPHRASE"] = "correct horse battery";
        var redactor = new SecretRedactor();
        using var right = new EvidenceSigners(env, redactor);
        Assert.That(right.For(KeyRole.Approval)!.Role, Is.EqualTo(KeyRole.Approval));
        Assert.That(redactor.Redact("correct horse battery"), Is.EqualTo("***"));
    }

    [Test]
    public void A_variable_without_a_private_key_is_one_line_naming_it()
    {
        using var signers = new EvidenceSigners(new Dictionary<string, string?> { ["PROMOTION_SIGNING_KEY_BUILD"] = "not a key" }, new SecretRedactor());
        var ex = Assert.Throws<ImagePromotion.PromotionException>(() => signers.For(KeyRole.Build));
        Assert.That(ex!.Message, Does.StartWith("PROMOTION_SIGNING_KEY_BUILD holds no PEM private key"));
    }

    [Test]
    public async Task A_key_on_another_curve_is_refused()
    {
        if (!ExternalTool.Exists("openssl")) Assert.Ignore("openssl is not installed");
        var key = Path.Combine(_keys.Directory, "p384.key");
        await ExternalTool.RunAsync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", key]);
        using var signers = new EvidenceSigners(new Dictionary<string, string?> { ["PROMOTION_SIGNING_KEY_SCAN_FILE"] = key }, new SecretRedactor());
        var ex = Assert.Throws<ImagePromotion.PromotionException>(() => signers.For(KeyRole.Scan));
        Assert.That(ex!.Message, Does.Contain("not ECDSA P-256"));
    }

    [Test]
    public async Task Generated_key_pairs_are_private_to_the_owner_read_by_openssl_and_never_overwritten()
    {
        var dir = Path.Combine(_keys.Directory, "generated");
        var (pair, created) = KeyPairs.Ensure(dir, KeyRole.Promotion, passphrase: "s3cret-pass");
        Assert.That(created, Is.True);
        Assert.That(Path.GetFileName(pair.PrivateKeyPath), Is.EqualTo("promotion.key"));
        if (!OperatingSystem.IsWindows())
            Assert.That(File.GetUnixFileMode(pair.PrivateKeyPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(await File.ReadAllTextAsync(pair.PrivateKeyPath), Does.StartWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        if (ExternalTool.Exists("openssl"))
        {
            var pub = await ExternalTool.RunAsync("openssl", ["pkey", "-in", pair.PrivateKeyPath, "-passin", "pass:s3cret-pass", "-pubout"]);
            Assert.That(pub.Trim(), Is.EqualTo((await File.ReadAllTextAsync(pair.PublicKeyPath)).Trim()));
        }
        var before = await File.ReadAllBytesAsync(pair.PrivateKeyPath);
        var (again, createdAgain) = KeyPairs.Ensure(dir, KeyRole.Promotion);
        Assert.That(createdAgain, Is.False);
        Assert.That(again.KeyId, Is.EqualTo(pair.KeyId));
        Assert.That(await File.ReadAllBytesAsync(pair.PrivateKeyPath), Is.EqualTo(before));
    }
}
