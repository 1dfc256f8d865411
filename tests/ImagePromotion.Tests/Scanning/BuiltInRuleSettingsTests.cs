using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

[TestFixture]
public sealed class BuiltInRuleSettingsTests
{
    [Test]
    public void Every_rule_has_a_unique_id()
    {
        Assert.That(BuiltInRules.All.Select(r => r.Id), Is.Unique);
    }

    [Test]
    public void Unknown_rule_id_names_the_source_and_the_known_rules()
    {
        var ex = Assert.Throws<PromotionException>(() => BuiltInRuleSettings.Parse(
            new Dictionary<string, string?> { ["github-tokens"] = "off" }, "promotion.yaml scan.rules"));

        Assert.That(ex!.Message, Does.StartWith("promotion.yaml scan.rules: unknown built-in rule 'github-tokens'"));
        Assert.That(ex.Message, Does.Contain("github-token,"));
    }

    [Test]
    public void Value_that_is_neither_off_nor_a_severity_is_refused()
    {
        var ex = Assert.Throws<PromotionException>(() => BuiltInRuleSettings.Parse(
            new Dictionary<string, string?> { ["jwt"] = "disabled" }, "promotion.yaml scan.rules"));

        Assert.That(ex!.Message, Is.EqualTo("promotion.yaml scan.rules: rule 'jwt' has value 'disabled'; use off, critical, high, medium, low, unknown or info"));
    }

    [Test]
    public void Unset_rules_keep_their_defaults()
    {
        var settings = BuiltInRuleSettings.Parse(new Dictionary<string, string?> { ["jwt"] = "High" });

        Assert.That(settings.SeverityOf(BuiltInRules.JsonWebToken), Is.EqualTo(Severity.High));
        Assert.That(settings.SeverityOf(BuiltInRules.PrivateKey), Is.EqualTo(Severity.Critical));
        Assert.That(settings.IsEnabled(BuiltInRules.PrivateKey), Is.True);
    }
}
