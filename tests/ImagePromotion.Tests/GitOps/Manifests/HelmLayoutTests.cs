using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>The image layouts Helm charts use, each rendered back the way the chart's template would.</summary>
[TestFixture]
public sealed class HelmLayoutTests
{
    // Bitnami's common.images.image renders {{ registry }}/{{ repository }}:{{ tag }}.
    private const string Bitnami = """
        api:
          image:
            registry: ghcr.io
            repository: path/api
            tag: v1.0.0
        image:
          registry: ghcr.io
          repository: path/api
          tag: v1.0.0
          digest: ""

        """;

    private static string Rendered(string yaml, string at) =>
        PyYaml.Query(yaml, $"{at} | \"\\(.registry)/\\(.repository):\\(.tag)\" + (if (.digest // \"\") != \"\" then \"@\" + .digest else \"\" end)");

    private static ManifestEdit Edit(string text, HelmValuesTarget target, string image) => ManifestEditor.Edit(text, "values.yaml", target, image);

    [Test]
    public void A_split_registry_keeps_the_host_in_registry_and_writes_only_the_new_tag()
    {
        var edit = Edit(Bitnami, HelmValuesTarget.Parse(null), "ghcr.io/path/api:v1.0.1");

        Assert.That(edit.Text, Is.EqualTo(Bitnami.Replace("  tag: v1.0.0\n  digest", "  tag: v1.0.1\n  digest")));
        Assert.That(Rendered(edit.Text, ".image"), Is.EqualTo("ghcr.io/path/api:v1.0.1"));
        Assert.That(Rendered(edit.Text, ".api.image"), Is.EqualTo("ghcr.io/path/api:v1.0.0"), "another image mapping is untouched");
        Assert.That(edit.Pinned, Is.EqualTo(new[] { "ghcr.io/path/api:v1.0.0" }));
    }

    [Test]
    public void A_new_registry_goes_to_the_registry_key_and_a_digest_to_the_digest_key()
    {
        var digest = "sha256:" + new string('d', 64);
        var edit = Edit(Bitnami, new HelmValuesTarget(), $"registry.example.com/mirror/api:v2@{digest}");

        Assert.That(Rendered(edit.Text, ".image"), Is.EqualTo($"registry.example.com/mirror/api:v2@{digest}"));
        Assert.That(edit.Changes.Select(c => c.Location), Is.EqualTo(new[] { ".image.registry", ".image.repository", ".image.tag", ".image.digest" }));
    }

    [Test]
    public void A_nested_image_mapping_is_chosen_with_its_path()
    {
        var edit = Edit(Bitnami, HelmValuesTarget.Parse("api.image"), "registry.example.com/mirror/api:v2");

        Assert.That(Rendered(edit.Text, ".api.image"), Is.EqualTo("registry.example.com/mirror/api:v2"));
        Assert.That(Rendered(edit.Text, ".image"), Is.EqualTo("ghcr.io/path/api:v1.0.0"));
    }

    [Test]
    public void Explicit_keys_from_the_argument_replace_the_found_ones()
    {
        var text = "global:\n  imageRegistry: docker.io\napp:\n  img: bitnami/nginx\n  version: \"1.25\"\n";
        var target = HelmValuesTarget.Parse("registry=global.imageRegistry, repository=app.img, tag=app.version");
        var edit = Edit(text, target, "ghcr.io/acme/nginx:1.26");

        Assert.That(PyYaml.Query(edit.Text, "\"\\(.global.imageRegistry)/\\(.app.img):\\(.app.version)\""), Is.EqualTo("ghcr.io/acme/nginx:1.26"));
        Assert.That(target, Is.EqualTo(new HelmValuesTarget("app.img", "app.version", null, "global.imageRegistry")));
    }

    [Test]
    public void The_name_layout_and_a_whole_reference_string_are_written_too()
    {
        var named = Edit("image:\n  name: ghcr.io/acme/app\n  tag: \"1\"\n", new HelmValuesTarget(), "ghcr.io/acme/app:2");
        Assert.That(named.Text, Is.EqualTo("image:\n  name: ghcr.io/acme/app\n  tag: \"2\"\n"));

        var whole = Edit("replicas: 2\nimage: ghcr.io/acme/app:1 # pinned by CI\n", new HelmValuesTarget(), "ghcr.io/acme/app:2");
        Assert.That(whole.Text, Is.EqualTo("replicas: 2\nimage: ghcr.io/acme/app:2 # pinned by CI\n"));
    }

    [Test]
    public void An_empty_registry_key_takes_no_host_so_the_whole_name_goes_to_repository()
    {
        var edit = Edit("image:\n  registry: \"\"\n  repository: acme/app\n  tag: v1\n", new HelmValuesTarget(), "ghcr.io/acme/app:v2");
        Assert.That(edit.Text, Is.EqualTo("image:\n  registry: \"\"\n  repository: ghcr.io/acme/app\n  tag: v2\n"));
    }

    [TestCase("colour=blue", "unknown key name 'colour'")]
    [TestCase("tag=", "'tag' needs a value")]
    [TestCase("digestInTag=maybe", "digestInTag takes true or false")]
    [TestCase("image=a..b", "invalid YAML path")]
    public void A_bad_helm_argument_is_explained(string argument, string expected)
    {
        var ex = Assert.Throws<PromotionException>(() => HelmValuesTarget.Parse(argument))!;
        Assert.That(ex.Message, Does.Contain(expected));
    }

    [Test]
    public void The_helm_argument_forms()
    {
        Assert.That(HelmValuesTarget.Parse("true"), Is.EqualTo(new HelmValuesTarget()));
        Assert.That(HelmValuesTarget.Parse("worker.image").Image, Is.EqualTo("worker.image"));
        Assert.That(HelmValuesTarget.Parse("image=worker.image,digestInTag=true"), Is.EqualTo(new HelmValuesTarget(DigestInTag: true) { Image = "worker.image" }));
    }
}
