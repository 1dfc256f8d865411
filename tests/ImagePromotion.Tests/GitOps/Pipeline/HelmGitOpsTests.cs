using ImagePromotion.Configuration;
using ImagePromotion.GitOps.Manifests;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Tests.Gates.Pipeline;
using ImagePromotion.Tests.GitOps.Git;
using ImagePromotion.Tests.GitOps.Manifests;

namespace ImagePromotion.Tests.GitOps.Pipeline;

/// <summary>
/// <c>gitops.helm</c> in promotion.yaml: the keys UpdateManifest's <c>--helm</c> takes, read strictly, and a promotion
/// that writes a Bitnami-style values file (host, path, tag and digest each in its own key) on a real git remote.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class HelmGitOpsTests
{
    private const string Values = "charts/api/values-production.yaml";
    private const string Bitnami = """
        global:
          imageRegistry: docker.io   # Bitnami: the host has its own key
        api:
          replicas: 2
          image:
            repository: bitnami/api
            tag: "1.0"
            digest: ""

        """;

    private static string Yaml(string gitops, string repository = "/tmp/gitops.git") => $$"""
        service: api
        registries:
          dev: { host: 127.0.0.1:5000, insecure: true }
        environments:
          dev: { registry: dev, repository: team/api, tag: "git-{commit}", tagMayMove: false }
          production:
            registry: dev
            repository: prod/api
            tag: production
            gitops: { repository: "{{repository}}", manifests: [{{Values}}], mode: direct, {{gitops}} }
        """;

    private static GitOpsSettings Parse(string gitops) =>
        ConfigLoader.Parse(Yaml(gitops), "promotion.yaml", "/tmp").Environment("production").GitOps!;

    [Test]
    public void Helm_takes_true_the_image_mapping_path_or_the_keys_of_each_part()
    {
        Assert.That(Parse("helm: true").Helm, Is.EqualTo(new HelmValuesTarget()));
        Assert.That(Parse("helm: api.image").Helm, Is.EqualTo(new HelmValuesTarget { Image = "api.image" }));
        Assert.That(Parse("helm: { image: api.image, registry: global.imageRegistry, tag: api.version, digestInTag: true }").Helm,
            Is.EqualTo(new HelmValuesTarget(TagKey: "api.version", RegistryKey: "global.imageRegistry", DigestInTag: true) { Image = "api.image" }));
        Assert.That(Parse("helm: { repository: app.img, tag: app.version, digest: app.sha }").Helm,
            Is.EqualTo(new HelmValuesTarget("app.img", "app.version", "app.sha")));
        Assert.That(Parse("helm: false").Helm, Is.Null);
        Assert.That(Parse("container: api").Helm, Is.Null);
    }

    [TestCase("helm: { repo: api.image.repository }", "promotion.yaml:10: unknown key 'environments.production.gitops.helm.repo': did you mean repository? Expected one of digest, digestInTag, image, registry, repository, tag")]
    [TestCase("helm: { tag: \"api..tag\" }", "promotion.yaml: 'environments.production.gitops.helm.tag' is 'api..tag', which is not a dotted key of a values file: write e.g. api.image.tag")]
    [TestCase("helm: \"api.image[\"", "promotion.yaml: 'environments.production.gitops.helm' is 'api.image[', which is not a dotted key of a values file: write e.g. api.image")]
    [TestCase("helm: { digestInTag: maybe }", "promotion.yaml:10: 'environments.production.gitops.helm.digestInTag' must be true or false")]
    [TestCase("helm: api.image, container: api", "promotion.yaml: 'environments.production.gitops.helm' and 'environments.production.gitops.container' (api) both say where the image goes: keep one")]
    public void A_wrong_helm_setting_is_one_line_naming_the_key_and_the_fix(string gitops, string message)
    {
        var ex = Assert.Throws<PromotionException>(() => Parse(gitops))!;
        Assert.That(ex.Message, Is.EqualTo(message));
        Assert.That(ex.Message, Does.Not.Contain('\n'));
    }

    [Test]
    public async Task A_promotion_writes_host_path_tag_and_digest_each_into_its_own_key_and_main_pins_the_digest()
    {
        await using var sandbox = await PipelineSandbox.StartAsync();
        using var remote = new BareRemote();
        remote.PushFromElsewhere("main", Values, Bitnami);
        var yaml = sandbox.Yaml(productionExtra: $$"""
                gitops: { repository: "{{remote.BarePath}}", manifests: [{{Values}}], mode: direct, helm: { image: api.image, registry: global.imageRegistry } }
            """);

        var first = await sandbox.PushCleanDevImageAsync(tag: "a");
        using (var session = sandbox.Session(yaml))
            (await new PromotionPipeline(session).PromoteAsync(new ReleaseSelection { Digest = first }, "production", null, "staging", null, CancellationToken.None)).ThrowIfRefused();
        var digest = await sandbox.PushCleanDevImageAsync(tag: "b");
        using (var session = sandbox.Session(yaml))
            (await new PromotionPipeline(session).PromoteAsync(new ReleaseSelection { Digest = digest }, "production", null, "staging", null, CancellationToken.None)).ThrowIfRefused();

        var values = remote.Show("main", Values);
        Assert.That(PyYaml.Query(values, "\"\\(.global.imageRegistry)|\\(.api.image.repository)|\\(.api.image.tag)|\\(.api.image.digest)\""),
            Is.EqualTo($"{sandbox.Prod.Host}|team/app|production|{digest}"), "each part in its own key, never host/host/path");
        Assert.That(values, Does.Contain("imageRegistry: " + sandbox.Prod.Host + "   # Bitnami: the host has its own key"), "the comment stays");
        Assert.That(values, Does.Contain("  replicas: 2\n"));
        using var client = sandbox.Prod.CreateClient();
        Assert.That((await client.HeadManifestAsync("team/app", "production"))?.Digest, Is.EqualTo(digest), "the tag and main agree");
        Assert.That(remote.Log("main", "%s").Split('\n'), Has.Exactly(2).StartsWith("Promote app to production"));
    }
}
