using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;

namespace ImagePromotion.Tests.Configuration;

/// <summary><c>registries.NAME.family</c> and <c>registries.NAME.timeout</c>: read, checked, and reaching the transport.</summary>
public sealed class RegistryKeysTests
{
    private static string Yaml(string registryExtra) => $$"""
        service: app
        registries:
          dev: { host: 127.0.0.1:5000, insecure: true }
          prod: { host: harbor.internal.example:8443{{registryExtra}} }
        environments:
          dev: { registry: dev, repository: team/app, tag: v1 }
          production: { registry: prod, repository: team/app, tag: production }
        """;

    private static PromotionConfig Parse(string yaml) => ConfigLoader.Parse(yaml, "promotion.yaml", "/tmp");

    [Test]
    public void A_family_named_for_a_registry_reaches_the_transport()
    {
        var config = Parse(Yaml(", family: harbor, timeout: 45s"));
        using var session = PromotionSession.Create(config, new SessionOptions
        {
            Commit = "0123456789ab", ArtifactsDirectory = Path.Combine(Path.GetTempPath(), "registry-keys-" + Guid.NewGuid().ToString("N")[..8]),
            Environment = new Dictionary<string, string?>(),
        }, new MemoryLog());

        Assert.That(config.Registries["prod"].Family, Is.EqualTo("harbor"));
        Assert.That(session.Transport.Behaviours.For("harbor.internal.example:8443").Profile.Family, Is.EqualTo("harbor"));
        Assert.That(session.Transport.Behaviours.For("127.0.0.1:5000").Profile.Family, Is.EqualTo("distribution"), "unnamed: by host name");
        Assert.That(session.Transport.Options.HeadersTimeoutFor("harbor.internal.example:8443"), Is.EqualTo(TimeSpan.FromSeconds(45)));
        Assert.That(session.Transport.Options.HeadersTimeoutFor("127.0.0.1:5000"), Is.EqualTo(TimeSpan.FromSeconds(120)), "the default elsewhere");
    }

    [Test]
    public void An_unknown_family_is_one_line_naming_the_key_and_the_valid_families()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Yaml(", family: nexus")))!;

        Assert.That(ex.Message, Does.StartWith("promotion.yaml:4: 'registries.prod.family' is 'nexus', not a registry family: use one of"));
        Assert.That(ex.Message, Does.Contain("harbor").And.Contain("pulp").And.Contain("zot"));
    }

    [TestCase("soon")]
    [TestCase("0s")]
    public void A_bad_timeout_is_one_line_naming_the_key(string value)
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Yaml($", timeout: {value}")))!;

        Assert.That(ex.Message, Is.EqualTo($"promotion.yaml:4: 'registries.prod.timeout' is '{value}': write a duration above zero such as 30s or 2m"));
    }
}
