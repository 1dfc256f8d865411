using ImagePromotion.Configuration;

namespace ImagePromotion.Tests.Configuration;

/// <summary>The applications model in the YAML shape: images, the environment graph, groups, policies and apply.</summary>
public sealed class ApplicationModelTests
{
    private const string Model = """
        applications:
          shop:
            images:
              web:    { context: apps/web }
              worker: { context: apps/worker, containerfile: Dockerfile.worker }
          billing:
            images:
              api: { context: apps/billing }
        registries:
          dev:     { host: 127.0.0.1:5000, insecure: true }
          prod-eu: { host: eu.registry.example.com }
          prod-us: { host: us.registry.example.com }
        environments:
          dev:           { registry: dev, repository: "team/{image}", tag: "git-{commit}", tagMayMove: false }
          staging:       { from: dev, registry: dev, repository: "team/{image}", tag: staging }
          production-eu: { from: staging, group: production, registry: prod-eu, repository: "{application}/{image}", tag: production }
          production-us: { from: staging, group: production, registry: prod-us, repository: "{application}/{image}", tag: production }
        policies:
          strict: { passCondition: 'branch == "main"', failCondition: 'scan.critical > 0', approvals: { required: 2, approvers: [a, b, c] } }
        apply:
          - { policy: strict, applications: ["*"], environments: ["production-*"] }
        """;

    private static PromotionConfig Parse(string yaml) => ConfigLoader.Parse(yaml, "promotion.yaml", "/tmp");

    [Test]
    public void Applications_images_and_builds_are_read_in_file_order()
    {
        var config = Parse(Model);
        Assert.That(config.Applications.Select(a => a.Name), Is.EqualTo(new[] { "shop", "billing" }));
        var shop = config.Application("shop");
        Assert.That(shop.Images.Select(i => i.Name), Is.EqualTo(new[] { "web", "worker" }));
        Assert.That(shop.Image("worker").Build, Is.EqualTo(new BuildSettings("apps/worker", "Dockerfile.worker", "auto", "")));
        Assert.That(shop.Image("web").Build.Containerfile, Is.EqualTo("Containerfile"));
    }

    [Test]
    public void The_environment_graph_fans_out_and_groups_name_several_environments()
    {
        var config = Parse(Model);
        Assert.That(config.Chain(config.Environment("production-us")), Is.EqualTo(new[] { "dev", "staging", "production-us" }));
        Assert.That(config.Targets("production").Select(e => e.Name), Is.EqualTo(new[] { "production-eu", "production-us" }));
        Assert.That(config.Targets("staging").Select(e => e.Name), Is.EqualTo(new[] { "staging" }));
        Assert.That(config.Release.Environment, Is.EqualTo("production"), "the last environment's group is released by default");
        var ex = Assert.Throws<PromotionException>(() => config.Targets("qa"))!;
        Assert.That(ex.Message, Does.Contain("no environment or group named 'qa'").And.Contain("groups: production"));
    }

    [Test]
    public void An_applied_policy_gives_every_matching_application_and_environment_its_gates()
    {
        var config = Parse(Model);
        foreach (var app in new[] { "shop", "billing" })
            foreach (var env in new[] { "production-eu", "production-us" })
            {
                var gates = config.GatesFor(app, env)!;
                Assert.That(gates.Policy.Name, Is.EqualTo("strict"));
                Assert.That(gates.Policy.RequiredApprovals, Is.EqualTo(2));
                Assert.That(gates.Policy.PassCondition, Is.EqualTo("branch == \"main\""));
            }
        Assert.That(config.GatesFor("shop", "staging"), Is.Null, "staging matches no apply pattern");
    }

    [Test]
    public void An_environments_own_gates_merge_with_the_applied_policy_and_a_key_set_twice_is_an_error()
    {
        var yaml = Model.Replace("tag: production }\n  production-us",
            "tag: production, gates: { lock: { locked: true, reason: audit } } }\n  production-us");
        var config = Parse(yaml);
        var eu = config.GatesFor("shop", "production-eu")!;
        Assert.That(eu.Lock.Locked, Is.True, "the environment's lock");
        Assert.That(eu.Policy.RequiredApprovals, Is.EqualTo(2), "and the policy's approvals");
        Assert.That(config.GatesFor("shop", "production-us")!.Lock.Locked, Is.False);

        var twice = Model.Replace("tag: production }\n  production-us", "tag: production, gates: { approvals: { required: 1 } } }\n  production-us");
        var ex = Assert.Throws<PromotionException>(() => Parse(twice))!;
        Assert.That(ex.Message, Is.EqualTo("promotion.yaml: 'environments.production-eu.gates' and 'policies.strict' both configure approvals: keep each gate in one place"));
    }

    [Test]
    public void Placeholders_give_each_image_its_own_reference_and_two_images_in_one_reference_are_refused()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Model.Replace("repository: \"team/{image}\", tag: staging", "repository: team/shop, tag: staging")))!;
        Assert.That(ex.Message, Does.Contain("'environments.staging.repository' gives images 'web' and 'worker' of application 'shop' the same reference").And.Contain("{image}"));
    }

    [Test]
    public void An_unknown_from_names_the_file_line_and_key()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Model.Replace("{ from: staging, group: production, registry: prod-us", "{ from: stagin, group: production, registry: prod-us")))!;
        Assert.That(ex.Message, Does.StartWith("promotion.yaml:17: 'environments.production-us.from' names 'stagin', which is not under environments"));
    }

    [Test]
    public void A_cycle_of_from_is_refused_with_the_path()
    {
        var yaml = Model.Replace("staging:       { from: dev,", "staging:       { from: production-eu,");
        var ex = Assert.Throws<PromotionException>(() => Parse(yaml))!;
        Assert.That(ex.Message, Does.Contain("'environments.staging.from' makes a cycle (staging <- production-eu <- staging)"));
    }

    [Test]
    public void Apply_patterns_must_match_and_one_pair_gets_one_policy()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(Model.Replace("environments: [\"production-*\"]", "environments: [\"prod-*\"]")))!;
        Assert.That(ex.Message, Does.Contain("'apply[0].environments' pattern 'prod-*' matches no environment"));
        ex = Assert.Throws<PromotionException>(() => Parse(Model.Replace("policy: strict,", "policy: lenient,")))!;
        Assert.That(ex.Message, Does.Contain("'apply[0].policy' names 'lenient', which is not under policies (have: strict)"));
        var two = Model + "\n  - { policy: strict, applications: [shop], environments: [production-eu] }\n";
        Assert.That(() => Parse(two), Throws.Nothing, "the same policy twice is still one policy");
        var other = Model.Replace("policies:\n", "policies:\n  audit: { lock: { locked: true } }\n")
            + "\n  - { policy: audit, applications: [billing], environments: [\"production-us\"] }\n";
        ex = Assert.Throws<PromotionException>(() => Parse(other))!;
        Assert.That(ex.Message, Does.Contain("policies strict and audit both apply to application 'billing' in environment 'production-us'"));
    }

    [Test]
    public void Service_and_applications_together_are_refused_and_a_policy_key_typo_is_caught()
    {
        var ex = Assert.Throws<PromotionException>(() => Parse("service: x\n" + Model))!;
        Assert.That(ex.Message, Does.Contain("both 'applications' and 'service'/'build' are set"));
        ex = Assert.Throws<PromotionException>(() => Parse(Model.Replace("failCondition:", "failCondtion:")))!;
        Assert.That(ex.Message, Does.Contain("unknown key 'policies.strict.failCondtion'"));
    }

    [Test]
    public void Todays_single_image_configurations_load_unchanged_as_one_application_with_one_image()
    {
        var root = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (!File.Exists(Path.Combine(root!.FullName, "build.sh"))) root = root.Parent;
        foreach (var file in new[] { "examples/sandbox/promotion.yaml", "examples/consumer/promotion.yaml" })
        {
            var config = ConfigLoader.Load(Path.Combine(root.FullName, file));
            Assert.That(config.Applications.Single().Images.Single().Name, Is.EqualTo("sample-app"), file);
            Assert.That(config.Environments.Select(e => (e.Name, e.From)), Is.EqualTo(new (string, string?)[] { ("dev", null), ("staging", "dev"), ("production", "staging") }), file);
            Assert.That(config.Targets(config.Release.Environment).Single().Name, Is.EqualTo("production"), file);
        }
        var shop = ConfigLoader.Load(Path.Combine(root.FullName, "examples/shop/promotion.yaml"));
        Assert.That(shop.Application("shop").Images.Select(i => i.Name), Is.EqualTo(new[] { "web", "worker" }));
        Assert.That(shop.Targets("production").Select(e => e.Registry), Is.EqualTo(new[] { "prod", "prod-us" }));
    }
}
