using ImagePromotion.Configuration;

namespace ImagePromotion.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    private const string Valid = """
        service: shop
        registries:
          dev:
            host: 127.0.0.1:5000
            insecure: true
          prod:
            host: registry.example.com
            usernameEnv: PROD_USER
            passwordEnv: PROD_PASSWORD
        environments:
          dev:
            registry: dev
            repository: team/shop
            tag: "git-{commit}"
            tagMayMove: false
          staging:
            registry: dev
            repository: team/shop
            tag: staging
          production:
            registry: prod
            repository: shop
            tag: production
        """;

    private static PromotionConfig Parse(string yaml, IReadOnlyDictionary<string, string>? overrides = null,
        IReadOnlyDictionary<string, string?>? env = null) =>
        ConfigLoader.Parse(yaml, "promotion.yaml", "/tmp", overrides, env);

    [Test]
    public void Reads_environments_in_file_order_with_defaults()
    {
        var config = Parse(Valid);
        Assert.That(config.Applications.Single().Name, Is.EqualTo("shop"), "service: is one application...");
        Assert.That(config.Applications[0].Images.Single().Name, Is.EqualTo("shop"), "...holding one image of the same name");
        Assert.That(config.Environments.Select(e => e.Name), Is.EqualTo(new[] { "dev", "staging", "production" }));
        Assert.That(config.Environment("dev").TagMayMove, Is.False);
        Assert.That(config.Environment("staging").TagMayMove, Is.True, "tags may move unless the file says otherwise");
        Assert.That(config.Registries["dev"].Insecure, Is.True);
        Assert.That(config.Registries["prod"].PasswordEnv, Is.EqualTo("PROD_PASSWORD"));
        Assert.That(config.Release.Environment, Is.EqualTo("production"), "the last environment is released by default");
        Assert.That(config.Applications[0].Images[0].Build.Builder, Is.EqualTo("auto"));
    }

    [Test]
    public void Unknown_key_names_file_line_and_dotted_key()
    {
        var yaml = Valid.Replace("    tag: staging", "    tag: staging\n    tagMayMvoe: true");
        var ex = Assert.Throws<PromotionException>(() => Parse(yaml))!;
        Assert.That(ex.Message, Does.StartWith("promotion.yaml:20: unknown key 'environments.staging.tagMayMvoe'"));
        Assert.That(ex.Message, Does.Contain("tagMayMove"), "the message lists the keys that are expected");
    }

    [Test]
    public void Wrong_type_names_the_key_and_line()
    {
        var yaml = Valid.Replace("tagMayMove: false", "tagMayMove: sometimes");
        var ex = Assert.Throws<PromotionException>(() => Parse(yaml))!;
        Assert.That(ex.Message, Is.EqualTo("promotion.yaml:15: 'environments.dev.tagMayMove' must be true or false"));
    }

    [Test]
    public void Missing_value_names_the_key_and_the_fix()
    {
        var yaml = Valid.Replace("    repository: shop\n", "");
        var ex = Assert.Throws<PromotionException>(() => Parse(yaml))!;
        Assert.That(ex.Message, Does.Contain("missing value for 'environments.production.repository'"));
        Assert.That(ex.Message, Does.Contain("--set environments.production.repository=VALUE"));
    }

    [Test]
    public void Environment_naming_an_unknown_registry_is_refused()
    {
        var yaml = Valid.Replace("    registry: prod", "    registry: production-registry");
        var ex = Assert.Throws<PromotionException>(() => Parse(yaml))!;
        Assert.That(ex.Message, Does.Contain("'environments.production.registry' names 'production-registry'"));
    }

    [Test]
    public void A_mapping_where_a_value_belongs_is_a_type_error()
    {
        var yaml = Valid.Replace("service: shop", "service:\n  name: shop");
        var ex = Assert.Throws<PromotionException>(() => Parse(yaml))!;
        Assert.That(ex.Message, Is.EqualTo("promotion.yaml:2: 'service' must be a text value"));
    }

    [Test]
    public void Broken_yaml_is_one_line_with_the_line_number()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse("service: [shop\nregistries: {}"))!;
        Assert.That(ex.Message, Does.StartWith("promotion.yaml:"));
        Assert.That(ex.Message, Does.Contain("not valid YAML"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Set_arguments_override_the_file_and_are_type_checked()
    {
        var config = Parse(Valid, new Dictionary<string, string> { ["environments.production.tag"] = "live" });
        Assert.That(config.Environment("production").Tag, Is.EqualTo("live"));

        var ex = Assert.Throws<PromotionException>(() => Parse(Valid, new Dictionary<string, string> { ["environments.dev.tagMayMove"] = "perhaps" }))!;
        Assert.That(ex.Message, Does.Contain("'environments.dev.tagMayMove' must be true or false"));
    }

    [Test]
    public void Environment_variables_override_the_file_and_arguments_win_over_them()
    {
        var env = new Dictionary<string, string?> { ["PROMOTION__registries__prod__host"] = "prod.internal:443", ["PROMOTION__environments__staging__tag"] = "from-env" };
        var config = Parse(Valid, new Dictionary<string, string> { ["environments.staging.tag"] = "from-argument" }, env);
        Assert.That(config.Registries["prod"].Host, Is.EqualTo("prod.internal:443"));
        Assert.That(config.Environment("staging").Tag, Is.EqualTo("from-argument"));
    }

    [Test]
    public void An_override_with_a_typo_is_an_unknown_key()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Valid, new Dictionary<string, string> { ["environments.production.tga"] = "x" }))!;
        Assert.That(ex.Message, Does.Contain("unknown key 'environments.production.tga'"));
    }

    [Test]
    public void Invalid_repository_is_refused_on_load()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Valid.Replace("repository: shop", "repository: Shop")))!;
        Assert.That(ex.Message, Does.Contain("repository names must be lowercase"));
    }

    [Test]
    public void Missing_file_names_the_path_and_the_argument()
    {
        var ex = Assert.Throws<PromotionException>(() => ConfigLoader.Load("/nonexistent/promotion.yaml"))!;
        Assert.That(ex.Message, Is.EqualTo("configuration file '/nonexistent/promotion.yaml' does not exist: pass --config=PATH to an existing promotion.yaml"));
    }

    [Test]
    public void The_embedded_sandbox_configuration_is_valid()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "examples", "sandbox", "promotion.yaml");
        var config = ConfigLoader.Load(Path.GetFullPath(path));
        Assert.That(config.Sandbox!.Registries, Is.EqualTo(new[] { "dev", "prod" }));
        Assert.That(config.Registries["dev"].Host, Is.Not.EqualTo(config.Registries["prod"].Host), "production lives in a separate registry");
    }
}
