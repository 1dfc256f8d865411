using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>
/// Edits decided by what a YAML loader reads, not by text position: duplicate keys, anchors and aliases,
/// merge keys and YAML 1.1 scalars. PyYAML (through the python yq) reads every result independently.
/// </summary>
[TestFixture]
public sealed class YamlMeaningTests
{
    private const string File = "deploy/app.yaml";

    private static string Edit(string text, ManifestTarget target, string image) => ManifestEditor.Edit(text, File, target, image).Text;

    private static string Refused(string text, ManifestTarget target, string image)
    {
        var ex = Assert.Throws<PromotionException>(() => ManifestEditor.Edit(text, File, target, image))!;
        Assert.That(ex.Message, Does.Not.Contain('\n'));
        return ex.Message;
    }

    private const string DuplicateImage = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          template:
            spec:
              containers:
                - name: web
                  image: registry.example.com/team/web:1.0.0
                  ports:
                    - containerPort: 8080
                  image: registry.example.com/team/web:1.4.0

        """;

    [Test]
    public void A_container_with_two_image_keys_is_refused_naming_file_line_and_key()
    {
        // Loaders disagree: PyYAML keeps the last one, kustomize refuses the file. Editing either is a guess.
        Assert.That(PyYaml.Query(DuplicateImage, ".spec.template.spec.containers[0].image"), Is.EqualTo("registry.example.com/team/web:1.4.0"));

        foreach (var target in new[] { new ContainerImageTarget("web"), new ContainerImageTarget() })
            Assert.That(Refused(DuplicateImage, target, "registry.example.com/team/web:2.0.0"),
                Does.StartWith("deploy/app.yaml:13: duplicate key 'image' (first on line 10, again on line 13)").And.Contain("delete one"));
        Assert.That(Refused(DuplicateImage, new YamlPathTarget(".spec.template.spec.containers[0].image"), "registry.example.com/team/web:2.0.0"),
            Does.StartWith("deploy/app.yaml:13: duplicate key 'image'"));
    }

    [Test]
    public void A_duplicate_key_in_helm_values_is_refused()
    {
        var text = "image:\n  repository: app\n  tag: v1\n  tag: v2\n";
        Assert.That(Refused(text, new HelmValuesTarget(), "app:v3"), Does.StartWith("deploy/app.yaml:4: duplicate key 'tag' (first on line 3"));
    }

    [Test]
    public void A_duplicate_key_the_edit_does_not_read_does_not_block_it()
    {
        var text = DuplicateImage.Replace("  name: web\nspec", "  name: web\n  labels: {team: a, team: b}\nspec").Replace("          image: registry.example.com/team/web:1.4.0\n", "");
        var edited = Edit(text, new ContainerImageTarget("web"), "registry.example.com/team/web:2.0.0");
        Assert.That(edited, Is.EqualTo(text.Replace("web:1.0.0", "web:2.0.0")));

        // A container named by the target is edited even when another container repeats its image key.
        var sidecar = DuplicateImage.Replace("      containers:\n", "      containers:\n        - name: helper\n          image: busybox:1.36\n");
        Assert.That(Edit(sidecar, new ContainerImageTarget("helper"), "busybox:1.37"), Is.EqualTo(sidecar.Replace("busybox:1.36", "busybox:1.37")));
    }

    private const string SharedAnchor = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
        spec:
          template:
            spec:
              containers:
                - name: api
                  image: &api registry.example.com/team/api:1.0.0
                - name: log-shipper
                  # the sidecar reuses the anchor; it is not the container being promoted
                  image: *api

        """;

    private static string Containers(string yaml, string spec = ".spec.template.spec") => PyYaml.Query(yaml, spec + ".containers[] | \"\\(.name) -> \\(.image)\"");

    [Test]
    public void The_anchor_another_container_reads_is_not_moved_the_edit_is_refused_naming_it()
    {
        var message = Refused(SharedAnchor, new ContainerImageTarget("api"), "registry.example.com/team/api:2.0.0");
        Assert.That(message, Does.StartWith("deploy/app.yaml:10: Deployment/api .spec.template.spec.containers[0].image is shared through the anchor &api (line 10) with line 13 (*api)"));
        Assert.That(message, Does.Contain("Give the other use its own value"));
    }

    [Test]
    public void A_target_that_is_an_alias_gets_its_own_value_and_nothing_else_moves()
    {
        var edited = Edit(SharedAnchor, new ContainerImageTarget("log-shipper"), "registry.example.com/team/api:2.0.0");

        Assert.That(edited, Is.EqualTo(SharedAnchor.Replace("image: *api", "image: registry.example.com/team/api:2.0.0")));
        Assert.That(Containers(edited), Is.EqualTo("api -> registry.example.com/team/api:1.0.0\nlog-shipper -> registry.example.com/team/api:2.0.0"));
    }

    [Test]
    public void When_every_use_of_the_anchor_is_a_target_the_anchor_itself_is_edited_once()
    {
        var edited = Edit(SharedAnchor, new ContainerImageTarget(AllMatches: true), "registry.example.com/team/api:2.0.0");

        Assert.That(edited, Is.EqualTo(SharedAnchor.Replace("api:1.0.0", "api:2.0.0")), "the alias stays an alias");
        Assert.That(Containers(edited), Is.EqualTo("api -> registry.example.com/team/api:2.0.0\nlog-shipper -> registry.example.com/team/api:2.0.0"));
    }

    private const string SharedTemplate = """
        apiVersion: v1
        kind: List
        items:
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: blue}
            spec:
              template: &tpl
                spec:
                  containers:
                    - name: app
                      image: ghcr.io/acme/app:1
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: green}
            spec:
              template: *tpl

        """;

    [Test]
    public void A_value_inside_a_shared_mapping_is_refused_unless_every_use_is_targeted()
    {
        var message = Refused(SharedTemplate, new ContainerImageTarget("app", WorkloadName: "blue"), "ghcr.io/acme/app:2");
        Assert.That(message, Does.Contain("shared through the anchor &tpl (line 8) with line 17 (*tpl)"));

        var both = Edit(SharedTemplate, new ContainerImageTarget("app", AllMatches: true), "ghcr.io/acme/app:2");
        Assert.That(both, Is.EqualTo(SharedTemplate.Replace("app:1", "app:2")));
        Assert.That(PyYaml.Query(both, "[.items[].spec.template.spec.containers[0].image] | join(\",\")"), Is.EqualTo("ghcr.io/acme/app:2,ghcr.io/acme/app:2"));
    }

    private const string MergedDefaults = """
        x-defaults: &defaults
          image: ghcr.io/acme/app:1
          imagePullPolicy: IfNotPresent
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - <<: *defaults
              name: app
            - <<: *defaults
              name: sidecar

        """;

    [Test]
    public void An_image_inherited_through_a_merge_key_is_overridden_by_an_own_key_of_the_target()
    {
        var edited = Edit(MergedDefaults, new ContainerImageTarget("app"), "ghcr.io/acme/app:2");

        Assert.That(edited, Is.EqualTo(MergedDefaults.Replace("      name: app\n", "      name: app\n      image: ghcr.io/acme/app:2\n")));
        Assert.That(Containers(edited, ".spec"), Is.EqualTo("app -> ghcr.io/acme/app:2\nsidecar -> ghcr.io/acme/app:1"));
        Assert.That(PyYaml.Query(edited, ".\"x-defaults\".image"), Is.EqualTo("ghcr.io/acme/app:1"));
    }

    [Test]
    public void A_merge_key_in_a_flow_mapping_gets_the_own_key_inline()
    {
        var text = "x: &d {image: 'app:1', imagePullPolicy: Always}\nkind: Pod\nspec:\n  containers:\n  - {<<: *d, name: a}\n  - {<<: *d, name: b}\n";
        var edited = Edit(text, new ContainerImageTarget("a"), "app:2");
        Assert.That(edited, Is.EqualTo(text.Replace("name: a}", "name: a, image: app:2}")));
        Assert.That(Containers(edited, ".spec"), Is.EqualTo("a -> app:2\nb -> app:1"));
    }

    [Test]
    public void A_container_matched_by_a_repository_it_inherits_is_found()
    {
        var edited = Edit(MergedDefaults.Replace("      name: sidecar\n", "      name: sidecar\n      image: busybox:1\n"), new ContainerImageTarget(), "ghcr.io/acme/app:2");
        Assert.That(Containers(edited, ".spec"), Is.EqualTo("app -> ghcr.io/acme/app:2\nsidecar -> busybox:1"));
    }

    [TestCase("1.10")]
    [TestCase("1.0")]
    [TestCase("10")]
    [TestCase("012")]
    [TestCase("1e3")]
    [TestCase("0x1F")]
    [TestCase("0b101")]
    [TestCase("1_000")]
    [TestCase("yes")]
    [TestCase("on")]
    [TestCase("No")]
    [TestCase("null")]
    [TestCase("2024-01-15")]
    public void A_tag_a_yaml_1_1_loader_would_retype_is_written_as_a_string(string tag)
    {
        var helm = Edit("image:\n  repository: app\n  tag: v1\n", new HelmValuesTarget(), "app:" + tag);
        Assert.That(PyYaml.Query(helm, ".image.tag | \"\\(type) \\(.)\""), Is.EqualTo("string " + tag), helm);

        var kustomize = Edit("images:\n- name: app\n  newTag: v1\n", new KustomizeImageTarget("app"), "app:" + tag);
        Assert.That(PyYaml.Query(kustomize, ".images[0].newTag | \"\\(type) \\(.)\""), Is.EqualTo("string " + tag), kustomize);
    }

    [Test]
    public void A_plain_tag_that_stays_a_string_is_not_quoted()
    {
        Assert.That(Edit("image:\n  repository: app\n  tag: v1\n", new HelmValuesTarget(), "app:1.2.3"), Is.EqualTo("image:\n  repository: app\n  tag: 1.2.3\n"));
        Assert.That(Edit("image:\n  repository: app\n  tag: v1\n", new HelmValuesTarget(), "app:2024-01-15-r1"), Does.EndWith("tag: 2024-01-15-r1\n"));
    }
}
