using ImagePromotion.Configuration;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;

namespace ImagePromotion.Tests.Configuration;

/// <summary>
/// What a promotion must prove comes from the reviewed file only: overrides of gates, trust and the scan policy are
/// refused in one line naming the key, and an empty gates or trust section is an error, never "no gates".
/// </summary>
[TestFixture]
public sealed class ProtectedSettingsTests
{
    private string _dir = null!;

    [SetUp]
    public void Folder() => _dir = Directory.CreateTempSubdirectory("protected-").FullName;

    [TearDown]
    public void Clean() => Directory.Delete(_dir, true);

    private const string Base = """
        service: app
        registries: { dev: { host: 127.0.0.1:5000, insecure: true } }
        environments:
          dev: { registry: dev, repository: team/app, tag: dev }
          production:
            registry: dev
            repository: team/app
            tag: production
            gates: { scan: { maxAge: 24h }, lock: { locked: false } }
        policies:
          strict: { scan: { maxAge: 1h } }
        scan: { scanners: [], thresholds: { critical: 0 }, rules: { no-healthcheck: info }, timeout: 5m }

        """;

    private PromotionConfig Parse(string yaml, Dictionary<string, string>? set = null, Dictionary<string, string?>? variables = null) =>
        ConfigLoader.Parse(yaml, Path.Combine(_dir, "promotion.yaml"), _dir, set, variables);

    [TestCase("environments.production.gates.lock.locked", "true", "gate settings (environments.production.gates)")]
    [TestCase("environments.production.gates.scan.maxAge", "100d", "gate settings (environments.production.gates)")]
    [TestCase("environments.production.gates", "", "gate settings (environments.production.gates)")]
    [TestCase("environments.production", "", "gate settings (environments.production.gates)")]
    [TestCase("environments.production.trust.scanResult", "/tmp/attacker.pub", "trusted keys (environments.production.trust)")]
    [TestCase("trust.scanResult", "/tmp/attacker.pub", "trusted keys (trust)")]
    [TestCase("policies.strict.scan.maxAge", "100d", "gate policies (policies)")]
    [TestCase("apply", "", "where gate policies apply (apply)")]
    [TestCase("scan.rules.private-key", "off", "scan rules (scan.rules)")]
    [TestCase("scan.thresholds.critical", "100", "scan thresholds (scan.thresholds)")]
    [TestCase("scan.allowlist", "", "the scan allowlist (scan.allowlist)")]
    [TestCase("scan", "", "scan rules (scan.rules)")]
    public void Overriding_what_a_promotion_must_prove_is_refused_naming_the_key(string key, string value, string what)
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Base, new Dictionary<string, string> { [key] = value }));
        Assert.That(ex!.Message, Is.EqualTo($"--set {key}: {what} cannot be overridden from the command line or the environment: {Path.Combine(_dir, "promotion.yaml")} is the reviewed source of truth; change it there in a reviewed commit"));

        var variable = "PROMOTION__" + key.Replace(".", "__");
        ex = Assert.Throws<PromotionException>(() => Parse(Base, variables: new Dictionary<string, string?> { [variable] = value }));
        Assert.That(ex!.Message, Does.StartWith($"the environment variable {variable}: {what} cannot be overridden"));
    }

    [Test]
    public void Other_settings_still_take_overrides()
    {
        var config = Parse(Base, new Dictionary<string, string> { ["environments.production.tag"] = "live", ["scan.timeout"] = "2m" },
            new Dictionary<string, string?> { ["PROMOTION__environments__dev__tag"] = "edge" });
        Assert.That(config.Environment("production").Tag, Is.EqualTo("live"));
        Assert.That(config.Environment("dev").Tag, Is.EqualTo("edge"));
        Assert.That(config.Scan!.Timeout, Is.EqualTo(TimeSpan.FromMinutes(2)));
    }

    [TestCase("gates:", "'environments.production.gates' is empty: an empty gates section would switch every gate off")]
    [TestCase("gates: {}", "'environments.production.gates' is empty")]
    [TestCase("gates: \"\"", "'environments.production.gates' is empty")]
    [TestCase("trust:", "'environments.production.trust' is empty: an empty trust section trusts no key")]
    [TestCase("trust: { scanResult: [] }", "'environments.production.trust.scanResult' is empty: list the public keys trusted for scan results")]
    [TestCase("trust: { scanResults: [a.pub] }", "unknown key 'environments.production.trust.scanResults'")]
    [TestCase("trust: { scanResult: [{ file: a.pub, env: A }] }", "'environments.production.trust.scanResult[0]' must name exactly one of file: PATH or env: VARIABLE")]
    public void An_empty_or_mistyped_gates_or_trust_section_is_an_error_naming_file_and_key(string line, string expected)
    {
        var yaml = Base.Replace("    gates: { scan: { maxAge: 24h }, lock: { locked: false } }", "    " + line);
        var ex = Assert.Throws<PromotionException>(() => Parse(yaml));
        Assert.That(ex!.Message, Does.StartWith(Path.Combine(_dir, "promotion.yaml") + ":").And.Contain(expected));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Trusted_keys_come_from_files_relative_to_the_configuration_or_from_variables_and_a_missing_one_is_named()
    {
        var keys = Path.Combine(_dir, "keys");
        var (scan, _) = KeyPairs.Ensure(keys, KeyRole.Scan);
        var (promotion, _) = KeyPairs.Ensure(keys, KeyRole.Promotion);
        var yaml = Base + "trust:\n  scanResult: [keys/scan.pub]\n  promotionRecord: [{ env: PROMOTION_PUBLIC_KEY }]\n  buildProvenance: [keys/build.pub]\n";
        var config = Parse(yaml);
        Assert.That(config.TrustOf("production")!.Origin, Is.EqualTo("trust"));

        var ex = Assert.Throws<PromotionException>(() => config.TrustOf("production")!.Load(config.Source, config.BaseDirectory, new Dictionary<string, string?>
        {
            ["PROMOTION_PUBLIC_KEY"] = File.ReadAllText(promotion.PublicKeyPath),
        }));
        Assert.That(ex!.Message, Does.Contain("'trust.buildProvenance[0]' names " + Path.Combine(keys, "build.pub") + ", which does not exist"));

        KeyPairs.Ensure(keys, KeyRole.Build);
        var trusted = config.TrustOf("production")!.Load(config.Source, config.BaseDirectory, new Dictionary<string, string?> { ["PROMOTION_PUBLIC_KEY"] = File.ReadAllText(promotion.PublicKeyPath) });
        Assert.That(trusted.For(EvidenceKind.ScanResult).Single().KeyId, Is.EqualTo(scan.KeyId));
        Assert.That(trusted.For(EvidenceKind.PromotionRecord).Single().KeyId, Is.EqualTo(promotion.KeyId));
        Assert.That(trusted.For(EvidenceKind.ApprovalDecision), Is.Empty, "a kind the section does not name trusts no key");

        ex = Assert.Throws<PromotionException>(() => config.TrustOf("production")!.Load(config.Source, config.BaseDirectory, new Dictionary<string, string?>()));
        Assert.That(ex!.Message, Does.Contain("'trust.promotionRecord[0]' names the variable PROMOTION_PUBLIC_KEY, which is not set"));
    }
}
