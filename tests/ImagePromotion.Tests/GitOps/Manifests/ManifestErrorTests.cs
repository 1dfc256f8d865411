using System.Text;
using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>Bad targets and hostile input end in one clear line that names the file and the spot.</summary>
[TestFixture]
public sealed class ManifestErrorTests
{
    private const string TwoApps = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app}
        spec:
          template:
            spec:
              containers:
              - name: app
                image: ghcr.io/acme/app:1
              - name: app-worker
                image: ghcr.io/acme/app:1
        """;

    private static PromotionException Fails(string text, ManifestTarget target, string image, ManifestLimits? limits = null)
    {
        var ex = Assert.Catch<PromotionException>(() => ManifestEditor.Edit(text, "deploy/app.yaml", target, image, limits))!;
        Assert.That(ex.Message, Does.Not.Contain('\n').And.Not.Contain('\r'), "one line");
        Assert.That(ex.Message, Does.Contain("deploy/app.yaml"), "names the file");
        return ex;
    }

    [Test]
    public void Two_containers_with_the_repository_are_ambiguous()
    {
        var ex = Fails(TwoApps, new ContainerImageTarget(), "ghcr.io/acme/app:2");
        Assert.That(ex.Message, Does.Contain("ambiguous").And.Contain("line 9").And.Contain("line 11").And.Contain("container name"));
    }

    [Test]
    public void Naming_the_container_resolves_the_ambiguity()
    {
        var edit = ManifestEditor.Edit(TwoApps, "deploy/app.yaml", new ContainerImageTarget("app-worker"), "ghcr.io/acme/app:2");
        Assert.That(edit.Text, Is.EqualTo(TwoApps[..TwoApps.LastIndexOf("app:1", StringComparison.Ordinal)] + "app:2"));
        Assert.That(edit.Changes.Single().Location, Is.EqualTo("Deployment/app .spec.template.spec.containers[1].image"));
        Assert.That(edit.Changes.Single().Line, Is.EqualTo(11));
    }

    [Test]
    public void No_matching_container_lists_what_is_there()
    {
        var ex = Fails(TwoApps, new ContainerImageTarget(), "ghcr.io/acme/other:2");
        Assert.That(ex.Message, Does.Contain("no container matches repository ghcr.io/acme/other").And.Contain("app-worker (ghcr.io/acme/app:1)"));
    }

    [Test]
    public void A_missing_path_names_the_part_that_exists()
    {
        var ex = Fails(TwoApps, new YamlPathTarget(".spec.template.spec.containers[5].image"), "ghcr.io/acme/app:2");
        Assert.That(ex.Message, Does.Contain("path .spec.template.spec.containers[5].image does not exist").And.Contain("found .spec.template.spec.containers"));
    }

    [Test]
    public void A_selector_that_matches_two_items_says_so()
    {
        var text = TwoApps.Replace("app-worker", "app");
        var ex = Fails(text, new YamlPathTarget(".spec.template.spec.containers[name=app].image"), "ghcr.io/acme/app:2");
        Assert.That(ex.Message, Does.Contain("2 items have name=app"));
    }

    [Test]
    public void Malformed_yaml_names_file_and_line()
    {
        var text = "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, image: x\n";
        var ex = Fails(text, new ContainerImageTarget(), "x:2");
        Assert.That(ex.Message, Does.StartWith("deploy/app.yaml:5:").And.Contain("malformed YAML"));
    }

    [Test]
    public void Alias_bomb_is_refused_without_expanding()
    {
        var sb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            var prev = (char)(level - 1);
            sb.Append(level).Append(": &").Append(level).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + prev, 9))).Append("]\n");
        }
        var ex = Fails(sb.ToString(), new YamlPathTarget(".a[0]"), "x:2");
        Assert.That(ex.Message, Does.Contain("alias bomb").And.Contain("MaxAliasExpansion"));
    }

    [Test]
    public void Too_many_aliases_are_refused()
    {
        var text = "base: &b x\nlist: [" + string.Join(",", Enumerable.Repeat("*b", 50)) + "]\nimage: x:1\n";
        var ex = Fails(text, new YamlPathTarget(".image"), "x:2", new ManifestLimits(MaxAliases: 20));
        Assert.That(ex.Message, Does.Contain("more than 20 aliases"));
        Assert.That(ManifestEditor.Edit(text, "deploy/app.yaml", new YamlPathTarget(".image"), "x:2").Text, Does.EndWith("image: x:2\n"), "within the default limits it is fine");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Deep_nesting_is_refused(bool flow)
    {
        var text = flow
            ? "image: x:1\ndeep: " + new string('[', 150) + new string(']', 150) + "\n"
            : "image: x:1\n" + string.Concat(Enumerable.Range(0, 120).Select(i => new string(' ', i * 2) + "k" + i + ":\n")) + new string(' ', 240) + "v: 1\n";
        var ex = Fails(text, new YamlPathTarget(".image"), "x:2");
        Assert.That(ex.Message, Does.Contain("nested deeper than 100 levels"));
    }

    [Test]
    public void Oversized_text_is_refused()
    {
        var text = "image: x:1\n" + new string('#', 2000) + "\n";
        var ex = Fails(text, new YamlPathTarget(".image"), "x:2", new ManifestLimits(MaxFileBytes: 1000));
        Assert.That(ex.Message, Does.Contain("over the 1000-byte limit"));
    }


    [Test]
    public void A_block_scalar_image_is_refused()
    {
        var text = "image: |\n  ghcr.io/acme/app:1\n";
        var ex = Fails(text, new YamlPathTarget(".image"), "ghcr.io/acme/app:2");
        Assert.That(ex.Message, Does.Contain("block scalar"));
    }

    [Test]
    public void An_invalid_new_image_is_refused()
    {
        var ex = Fails(TwoApps, new ContainerImageTarget("app"), "ghcr.io/Acme/App:2");
        Assert.That(ex.Message, Does.Contain("invalid image reference"));
    }

    [Test]
    public void Kustomize_refuses_a_stale_tag_beside_a_new_digest()
    {
        var text = "images:\n- name: app\n  newTag: v1\n";
        var ex = Fails(text, new KustomizeImageTarget("app"), "app@sha256:" + new string('a', 64));
        Assert.That(ex.Message, Does.Contain("newTag 'v1'").And.Contain("repo:tag@sha256"));
    }

    [Test]
    public void Kustomize_refuses_two_entries_for_one_image()
    {
        var text = "images:\n- name: app\n  newTag: v1\n- name: docker.io/library/app\n  newTag: v1\n";
        var ex = Fails(text, new KustomizeImageTarget(), "app:v2");
        Assert.That(ex.Message, Does.Contain("2 images entries match").And.Contain("ambiguous"));
    }

    [Test]
    public void Helm_needs_a_digest_key_for_a_pinned_image()
    {
        var text = "image:\n  repository: ghcr.io/acme/app\n  tag: \"1\"\n";
        var ex = Fails(text, new HelmValuesTarget(), "ghcr.io/acme/app:2@sha256:" + new string('b', 64));
        Assert.That(ex.Message, Does.Contain("no image.digest").And.Contain("DigestInTag"));
        var edit = ManifestEditor.Edit(text, "v.yaml", new HelmValuesTarget(DigestInTag: true), "ghcr.io/acme/app:2@sha256:" + new string('b', 64));
        Assert.That(edit.Text, Is.EqualTo("image:\n  repository: ghcr.io/acme/app\n  tag: \"2@sha256:" + new string('b', 64) + "\"\n"));
    }

    [Test]
    public void Helm_missing_repository_key_says_which_option_to_set()
    {
        var ex = Fails("app:\n  tag: 1\n", new HelmValuesTarget(), "ghcr.io/acme/app:2");
        Assert.That(ex.Message, Does.Contain("no .image.repository").And.Contain("RepositoryKey"));
    }

    [Test]
    public void A_yaml_path_in_two_documents_needs_a_document_index()
    {
        var text = "image: a:1\n---\nimage: a:1\n";
        var ex = Fails(text, new YamlPathTarget(".image"), "a:2");
        Assert.That(ex.Message, Does.Contain("exists in 2 documents"));
        var edit = ManifestEditor.Edit(text, "deploy/app.yaml", new YamlPathTarget(".image", Document: 1), "a:2");
        Assert.That(edit.Text, Is.EqualTo("image: a:1\n---\nimage: a:2\n"));
        Assert.That(edit.Changes.Single().Location, Is.EqualTo("document 2 .image"));
    }

    [TestCase("")]
    [TestCase("spec..image")]
    [TestCase(".a[")]
    [TestCase(".a[x]")]
    public void Bad_path_expressions_are_explained(string path)
    {
        var ex = Assert.Throws<PromotionException>(() => YamlPath.Parse(path))!;
        Assert.That(ex.Message, Does.StartWith("invalid YAML path").And.Contain("write it like"));
    }
}
