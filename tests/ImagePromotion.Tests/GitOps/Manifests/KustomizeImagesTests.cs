using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>Kustomize images entries in the shapes people write them.</summary>
[TestFixture]
public sealed class KustomizeImagesTests
{
    private static readonly string Digest = "sha256:" + new string('5', 64);

    private static string Edit(string text, KustomizeImageTarget target, string image) =>
        ManifestEditor.Edit(text, "kustomization.yaml", target, image).Text;

    [Test]
    public void An_empty_flow_list_gets_its_first_entry()
    {
        Assert.That(Edit("images: []\n", new KustomizeImageTarget("app"), "app:v2"), Is.EqualTo("images: [{name: app, newTag: v2}]\n"));
    }

    [Test]
    public void A_multi_line_flow_list_with_a_trailing_comma_stays_valid()
    {
        var text = "images: [\n  {name: web, newTag: v1},\n]\n";
        Assert.That(Edit(text, new KustomizeImageTarget("app"), "app:v2"), Is.EqualTo("images: [\n  {name: web, newTag: v1}, {name: app, newTag: v2},\n]\n"));
    }

    [Test]
    public void A_new_registry_adds_newName_to_the_existing_entry()
    {
        var text = "images:\n- name: app # from base\n  newTag: v1\nresources:\n- base\n";
        Assert.That(Edit(text, new KustomizeImageTarget("app"), "registry.example.com/team/app:v2@" + Digest), Is.EqualTo(
            "images:\n- name: app # from base\n  newTag: v2\n  newName: registry.example.com/team/app\n  digest: " + Digest + "\nresources:\n- base\n"));
    }

    [Test]
    public void The_entry_is_found_by_its_newName()
    {
        var text = "images:\n- name: app\n  newName: ghcr.io/acme/app\n  newTag: v1\n";
        Assert.That(Edit(text, new KustomizeImageTarget(), "ghcr.io/acme/app:v2"), Is.EqualTo(text.Replace("v1", "v2")));
    }

    [Test]
    public void A_stale_digest_beside_a_new_tag_is_refused()
    {
        var text = "images:\n- name: app\n  newTag: v1\n  digest: " + Digest + "\n";
        var ex = Assert.Catch<PromotionException>(() => Edit(text, new KustomizeImageTarget(), "app:v2"))!;
        Assert.That(ex.Message, Does.StartWith("kustomization.yaml:2: .images[0] has digest"));
    }

    [Test]
    public async Task A_kustomize_folder_resolves_to_its_kustomization_file()
    {
        using var repo = new ScratchRepository();
        var path = repo.Write("overlays/prod/kustomization.yaml", "resources:\n- ../../base\nimages:\n- name: app\n  newTag: v1\n");

        var result = await new ManifestUpdater(repo.Root).UpdateFileAsync("overlays/prod", new KustomizeImageTarget("app"), "app:v2");

        Assert.That(result.File, Is.EqualTo("overlays/prod/kustomization.yaml"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("resources:\n- ../../base\nimages:\n- name: app\n  newTag: v2\n"));
        Assert.That(result.Changes.Single(), Is.EqualTo(new ImageChange(".images[0].newTag", 5, "v1", "v2")));
    }
}
