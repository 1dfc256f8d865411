using System.Diagnostics;
using ImagePromotion.Configuration;

namespace ImagePromotion.Tests.Configuration;

/// <summary>Messages about a configuration: overrides named as the user wrote them, every problem at once, files that are not files.</summary>
public sealed class ConfigMessagesTests
{
    private const string Valid = """
        service: shop
        registries:
          dev: { host: 127.0.0.1:5000, insecure: true }
        environments:
          dev: { registry: dev, repository: team/shop, tag: "git-{commit}" }
          production: { registry: dev, repository: prod/shop, tag: production }
        """;

    private static PromotionException Refused(string yaml, IReadOnlyDictionary<string, string>? overrides = null, IReadOnlyDictionary<string, string?>? env = null) =>
        Assert.Throws<PromotionException>(() => ConfigLoader.Parse(yaml, "promotion.yaml", "/tmp", overrides, env))!;

    [Test]
    public void A_typo_in_a_set_key_names_the_override_not_a_line_of_the_file()
    {
        var ex = Refused(Valid, new Dictionary<string, string> { ["environments.production.tg"] = "live" });
        Assert.That(ex.Message, Is.EqualTo("--set environments.production.tg=live: unknown key 'environments.production.tg': did you mean tag? Expected one of from, gates, gitops, group, registry, repository, tag, tagMayMove, trust"));
    }

    [Test]
    public void A_misspelt_environment_in_a_set_names_the_override_and_says_what_it_added()
    {
        var ex = Refused(Valid, new Dictionary<string, string> { ["environments.prodution.tag"] = "live" });
        Assert.That(ex.Message, Does.StartWith("--set environments.prodution.tag=live adds 'environments.prodution', which promotion.yaml does not have"));
        Assert.That(ex.Message, Does.Not.Contain("promotion.yaml:1"));
    }

    [Test]
    public void A_typo_in_a_variable_names_the_variable()
    {
        var ex = Refused(Valid, env: new Dictionary<string, string?> { ["PROMOTION__registries__dev__insecur"] = "true" });
        Assert.That(ex.Message, Does.StartWith("variable PROMOTION__registries__dev__insecur: unknown key 'registries.dev.insecur': did you mean insecure?"));
    }

    [Test]
    public void A_bad_value_from_an_override_names_the_override()
    {
        var ex = Refused(Valid, new Dictionary<string, string> { ["environments.dev.tagMayMove"] = "yes" });
        Assert.That(ex.Message, Is.EqualTo("--set environments.dev.tagMayMove=yes: 'environments.dev.tagMayMove' must be true or false"));
    }

    [Test]
    public void Every_problem_is_reported_in_one_run()
    {
        const string yaml = """
            service: shop
            registries:
              dev: { hots: 127.0.0.1:5000 }
            environments:
              dev: { registry: dev, repository: team/shop, tag: dev, tagMayMove: maybe }
              production: { registry: prdo, repository: prod/shop, tag: production }
            relase: {}
            """;
        var ex = Refused(yaml);
        Assert.That(ex.Message, Does.StartWith("promotion.yaml: 5 problems, fix them all: (1) "));
        Assert.That(ex.Message, Does.Contain("missing value for 'registries.dev.host'"));
        Assert.That(ex.Message, Does.Contain("line 3: unknown key 'registries.dev.hots': did you mean host? Expected one of caBundle, family, host, insecure, passwordEnv, timeout, usernameEnv"));
        Assert.That(ex.Message, Does.Contain("line 5: 'environments.dev.tagMayMove' must be true or false"));
        Assert.That(ex.Message, Does.Contain("line 6: 'environments.production.registry' names 'prdo', which is not under registries (have: dev)"));
        Assert.That(ex.Message, Does.Contain("line 7: unknown key 'relase': did you mean release?"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void A_device_is_refused_without_reading_it()
    {
        var ex = Assert.Throws<PromotionException>(() => ConfigLoader.Load("/dev/zero"))!;
        Assert.That(ex.Message, Is.EqualTo("configuration file '/dev/zero' is empty or not a regular file (a device or a pipe): pass --config=PATH to a promotion.yaml file"));
    }

    [Test, CancelAfter(30_000)]
    public void A_fifo_is_refused_without_waiting_for_a_writer()
    {
        var dir = Directory.CreateTempSubdirectory("config-fifo-").FullName;
        try
        {
            var fifo = Path.Combine(dir, "promotion.yaml");
            using (var mkfifo = Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
            var ex = Assert.Throws<PromotionException>(() => ConfigLoader.Load(fifo))!;
            Assert.That(ex.Message, Does.StartWith($"configuration file '{fifo}' is empty or not a regular file"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
