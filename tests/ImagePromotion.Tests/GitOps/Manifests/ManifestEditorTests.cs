using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>Text-level splicing: offsets, quoting decisions and path syntax.</summary>
[TestFixture]
public sealed class ManifestEditorTests
{
    [Test]
    public void Offsets_stay_exact_after_crlf_surrogate_pairs_and_a_bom()
    {
        // Characters before the image that are wider than one byte or one UTF-16 unit, and CRLF line ends.
        var text = "\uFEFF# déploiement 🚀 — ünïcode\r\nkind: Pod # 😀😀\r\nmetadata: {name: \"naïve 😀\"}\r\nspec:\r\n  containers:\r\n  - name: app\r\n    image: app:1 # ✓\r\n";
        var edit = ManifestEditor.Edit(text, "pod.yaml", new ContainerImageTarget("app"), "app:2");
        Assert.That(edit.Text, Is.EqualTo(text.Replace("image: app:1", "image: app:2")));
    }

    [Test]
    public void Crlf_text_gets_crlf_lines_when_keys_are_added()
    {
        var text = "images:\r\n- name: app\r\n  newTag: v1\r\n";
        var edit = ManifestEditor.Edit(text, "k.yaml", new KustomizeImageTarget("app"), "app:v2@sha256:" + new string('c', 64));
        Assert.That(edit.Text, Is.EqualTo("images:\r\n- name: app\r\n  newTag: v2\r\n  digest: sha256:" + new string('c', 64) + "\r\n"));
    }

    [TestCase("tag: v1", "1.20", "tag: \"1.20\"")]
    [TestCase("tag: v1", "2", "tag: \"2\"")]
    [TestCase("tag: v1", "yes", "tag: \"yes\"")]
    [TestCase("tag: v1", "1.2.3", "tag: 1.2.3")]
    [TestCase("tag: v1", "1e3", "tag: \"1e3\"")]
    [TestCase("tag: 'v1'", "2.0", "tag: '2.0'")]
    [TestCase("tag:   # none yet", "v2", "tag: v2   # none yet")]
    [TestCase("tag: ~", "v2", "tag: v2")]
    [TestCase("tag: !!str &t v1", "v2", "tag: !!str &t v2")]
    public void Scalars_keep_their_style_unless_the_value_would_change_type(string before, string tag, string after)
    {
        // A tag alone is what Helm values hold, and where 1.20 would otherwise become the float 1.2.
        var edit = ManifestEditor.Edit("image:\n  repository: app\n  " + before + "\n", "v.yaml", new HelmValuesTarget(), "app:" + tag);
        Assert.That(edit.Text, Is.EqualTo("image:\n  repository: app\n  " + after + "\n"));
    }

    [Test]
    public void Plain_numeric_tags_are_quoted_for_helm()
    {
        var edit = ManifestEditor.Edit("image:\n  repository: app\n  tag: v1\n", "v.yaml", new HelmValuesTarget(), "app:1.10");
        Assert.That(edit.Text, Is.EqualTo("image:\n  repository: app\n  tag: \"1.10\"\n"));
    }

    [Test]
    public void Helm_clears_a_stale_digest_when_promoting_by_tag()
    {
        var text = "image:\n  repository: app\n  tag: v1\n  digest: sha256:" + new string('d', 64) + "\n";
        var edit = ManifestEditor.Edit(text, "v.yaml", new HelmValuesTarget(), "app:v2");
        Assert.That(edit.Text, Is.EqualTo("image:\n  repository: app\n  tag: v2\n  digest: \"\"\n"));
        Assert.That(edit.Changes.Select(c => (c.Location, c.OldValue, c.NewValue)),
            Is.EqualTo(new[] { (".image.tag", (string?)"v1", "v2"), (".image.digest", "sha256:" + new string('d', 64), "") }));
    }

    [Test]
    public void An_unchanged_edit_returns_the_same_text_instance()
    {
        const string text = "image: app:1 # keep\n";
        var edit = ManifestEditor.Edit(text, "v.yaml", new YamlPathTarget(".image"), "app:1");
        Assert.That(edit.Changed, Is.False);
        Assert.That(edit.Text, Is.SameAs(text));
        Assert.That(edit.Changes.Single().OldValue, Is.EqualTo("app:1"));
    }

    [Test]
    public void Quoted_keys_and_selectors_in_paths()
    {
        var text = "metadata:\n  annotations:\n    \"images.acme.io/app\": app:1\nlist:\n- {name: 'web', image: web:1}\n";
        var a = ManifestEditor.Edit(text, "x.yaml", new YamlPathTarget(".metadata.annotations.\"images.acme.io/app\""), "app:2");
        Assert.That(a.Text, Does.Contain("\"images.acme.io/app\": app:2"));
        var b = ManifestEditor.Edit(text, "x.yaml", new YamlPathTarget(".list[name=\"web\"].image"), "web:2");
        Assert.That(b.Text, Does.EndWith("- {name: 'web', image: web:2}\n"));
    }

    [Test]
    public void Path_round_trips_through_its_text_form()
    {
        var path = YamlPath.Parse(".spec.template.spec.containers[name=web].image");
        Assert.That(path.Segments, Is.EqualTo(new YamlPathSegment[]
        {
            new KeySegment("spec"), new KeySegment("template"), new KeySegment("spec"),
            new KeySegment("containers"), new SelectSegment("name", "web"), new KeySegment("image"),
        }));
        Assert.That(path.ToString(), Is.EqualTo(".spec.template.spec.containers[name=web].image"));
        Assert.That(YamlPath.Parse("image.tag").ToString(), Is.EqualTo(".image.tag"));
        Assert.That(YamlPath.Parse(".a.\"b.c\"[0]").ToString(), Is.EqualTo(".a.\"b.c\"[0]"));
    }

    [Test]
    public void Comments_and_other_documents_survive_a_multi_change_edit()
    {
        var text = "# head\nkind: Job\nspec:\n  template:\n    spec:\n      initContainers: [{name: i, image: 'app:1'}]\n      containers:\n      - {name: c, image: \"app:1\"} # tail\n---\n# second\nkind: Secret\n";
        var edit = ManifestEditor.Edit(text, "j.yaml", new ContainerImageTarget(AllMatches: true), "app:2");
        Assert.That(edit.Text, Is.EqualTo(text.Replace("'app:1'", "'app:2'").Replace("\"app:1\"", "\"app:2\"")));
        Assert.That(edit.Changes, Has.Count.EqualTo(2));
    }
}
