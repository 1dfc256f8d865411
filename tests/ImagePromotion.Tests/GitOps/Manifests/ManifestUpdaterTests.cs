using ImagePromotion.GitOps.Manifests;
using ImagePromotion.Logging;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>The file-level API on real folders: root confinement, atomic writes, untouched files, folder scans.</summary>
[TestFixture]
public sealed class ManifestUpdaterTests
{
    private const string Deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: ghcr.io/acme/web:1.0.0\n";

    [Test]
    public async Task Relative_path_is_updated_and_the_diff_is_unified()
    {
        using var repo = new ScratchRepository();
        repo.Write("apps/web/deployment.yaml", Deployment);
        var log = new MemoryLog();

        var result = await new ManifestUpdater(repo.Root, log: log).UpdateFileAsync("apps/web/deployment.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:1.1.0");

        Assert.That(result.File, Is.EqualTo("apps/web/deployment.yaml"));
        Assert.That(result.OldValues, Is.EqualTo(new[] { "ghcr.io/acme/web:1.0.0" }));
        Assert.That(result.NewValues, Is.EqualTo(new[] { "ghcr.io/acme/web:1.1.0" }));
        Assert.That(result.Diff, Is.EqualTo(
            "--- a/apps/web/deployment.yaml\n+++ b/apps/web/deployment.yaml\n" +
            "@@ -7,4 +7,4 @@\n     spec:\n       containers:\n       - name: web\n" +
            "-        image: ghcr.io/acme/web:1.0.0\n+        image: ghcr.io/acme/web:1.1.0\n"));
        Assert.That(log.Lines, Has.Some.Contains("apps/web/deployment.yaml:10: Deployment/web .spec.template.spec.containers[0].image: ghcr.io/acme/web:1.0.0 -> ghcr.io/acme/web:1.1.0"));
    }

    [Test]
    public async Task A_file_that_already_holds_the_image_is_not_rewritten()
    {
        using var repo = new ScratchRepository();
        var path = repo.Write("web.yaml", Deployment);
        var past = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, past);

        var result = await new ManifestUpdater(repo.Root).UpdateFileAsync("web.yaml", new ContainerImageTarget("web"), "ghcr.io/acme/web:1.0.0");

        Assert.That(result.Changed, Is.False);
        Assert.That(result.Status, Is.EqualTo("unchanged"));
        Assert.That(result.Diff, Is.Empty);
        Assert.That(File.GetLastWriteTimeUtc(path), Is.EqualTo(past));
    }

    [Test]
    public async Task A_failed_update_leaves_the_file_byte_identical()
    {
        using var repo = new ScratchRepository();
        var text = Deployment + "---\n" + Deployment.Replace("name: web\n  ", "name: web2\n  ");
        var path = repo.Write("web.yaml", text);
        var before = await File.ReadAllBytesAsync(path);

        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateFileAsync("web.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2"));

        Assert.That(ex!.Message, Does.Contain("web.yaml").And.Contain("ambiguous"));
        Assert.That(await File.ReadAllBytesAsync(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(repo.Root), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task The_file_mode_survives_the_atomic_rename()
    {
        if (OperatingSystem.IsWindows()) Assert.Ignore("Unix file modes");
        using var repo = new ScratchRepository();
        var path = repo.Write("web.yaml", Deployment);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        await new ManifestUpdater(repo.Root).UpdateFileAsync("web.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2");

        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead));
        Assert.That(await File.ReadAllTextAsync(path), Does.Contain("image: ghcr.io/acme/web:2\n"));
    }

    [Test]
    public async Task A_file_edited_by_someone_else_meanwhile_is_not_overwritten()
    {
        using var repo = new ScratchRepository();
        var path = repo.Write("web.yaml", Deployment.Replace("1.0.0", "1.0.1"));

        var ex = Assert.CatchAsync<PromotionException>(() => ManifestFile.WriteAtomicallyAsync(path, "web.yaml", Deployment, "new", CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("web.yaml changed while it was being updated"));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo(Deployment.Replace("1.0.0", "1.0.1")));
        Assert.That(Directory.GetFiles(repo.Root), Has.Length.EqualTo(1), "the temporary file is removed");
    }

    [TestCase("../outside/web.yaml", "contains '..'")]
    [TestCase("apps/../../outside/web.yaml", "contains '..'")]
    [TestCase("/etc/passwd", "is absolute")]
    public void Paths_that_leave_the_root_are_refused(string path, string why)
    {
        using var repo = new ScratchRepository();
        File.WriteAllText(Path.Combine(repo.Outside, "web.yaml"), Deployment);
        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateFileAsync(path, new ContainerImageTarget(), "ghcr.io/acme/web:2"));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain(why));
        Assert.That(File.ReadAllText(Path.Combine(repo.Outside, "web.yaml")), Is.EqualTo(Deployment));
    }

    [Test]
    public void An_absolute_path_into_the_root_is_refused_too()
    {
        using var repo = new ScratchRepository();
        var path = repo.Write("web.yaml", Deployment);
        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateFileAsync(path, new ContainerImageTarget(), "ghcr.io/acme/web:2"));
        Assert.That(ex!.Message, Does.Contain("is absolute"));
    }

    [Test]
    public void A_symlinked_file_leading_outside_is_refused()
    {
        using var repo = new ScratchRepository();
        var outside = Path.Combine(repo.Outside, "web.yaml");
        File.WriteAllText(outside, Deployment);
        File.CreateSymbolicLink(Path.Combine(repo.Root, "web.yaml"), outside);

        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateFileAsync("web.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2"));

        Assert.That(ex!.Message, Does.Contain("symbolic link").And.Contain("outside"));
        Assert.That(File.ReadAllText(outside), Is.EqualTo(Deployment));
    }

    [Test]
    public void A_symlinked_folder_leading_outside_is_refused()
    {
        using var repo = new ScratchRepository();
        File.WriteAllText(Path.Combine(repo.Outside, "web.yaml"), Deployment);
        Directory.CreateSymbolicLink(Path.Combine(repo.Root, "apps"), "../outside");

        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateFileAsync("apps/web.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2"));

        Assert.That(ex!.Message, Does.Contain("symbolic link"));
        Assert.That(File.ReadAllText(Path.Combine(repo.Outside, "web.yaml")), Is.EqualTo(Deployment));
    }

    [Test]
    public async Task A_symlink_inside_the_root_is_followed_and_the_link_kept()
    {
        using var repo = new ScratchRepository();
        var real = repo.Write("base/web.yaml", Deployment);
        var link = Path.Combine(repo.Root, "current.yaml");
        File.CreateSymbolicLink(link, "base/web.yaml");

        var result = await new ManifestUpdater(repo.Root).UpdateFileAsync("current.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2");

        Assert.That(result.Changed, Is.True);
        Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo("base/web.yaml"), "the link itself is not replaced");
        Assert.That(File.ReadAllText(real), Does.Contain("ghcr.io/acme/web:2"));
    }

    [Test]
    public void Files_over_the_size_limit_are_refused_before_reading()
    {
        using var repo = new ScratchRepository();
        repo.Write("big.yaml", Deployment + "# " + new string('x', 4096) + "\n");
        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root, new ManifestLimits(MaxFileBytes: 1024)).UpdateFileAsync("big.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2"));
        Assert.That(ex!.Message, Does.Contain("big.yaml").And.Contain("over the 1024-byte limit"));
    }

    [Test]
    public void Invalid_utf8_is_refused_rather_than_rewritten()
    {
        using var repo = new ScratchRepository();
        repo.Write("bad.yaml", [.. System.Text.Encoding.UTF8.GetBytes(Deployment), 0x23, 0xC3, 0x28, 0x0A]);
        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateFileAsync("bad.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2"));
        Assert.That(ex!.Message, Does.Contain("bad.yaml is not valid UTF-8"));
    }

    [Test]
    public void A_missing_manifest_is_named()
    {
        using var repo = new ScratchRepository();
        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateFileAsync("nope/web.yaml", new ContainerImageTarget(), "ghcr.io/acme/web:2"));
        Assert.That(ex!.Message, Does.Contain("nope/web.yaml does not exist"));
    }

    [Test]
    public async Task One_image_among_two_thousand_manifests_is_found_and_only_it_updated()
    {
        using var repo = new ScratchRepository();
        for (var i = 0; i < 2000; i++)
            repo.Write($"apps/team{i % 40}/svc{i}.yaml",
                Deployment.Replace("name: web", $"name: svc{i}").Replace("ghcr.io/acme/web:1.0.0", $"ghcr.io/acme/svc{i}:1.0.{i % 7}"));
        repo.Write("apps/team34/svc1234.yaml", Deployment.Replace("name: web", "name: svc1234").Replace("ghcr.io/acme/web:1.0.0", "ghcr.io/acme/needle:4.1.0"));
        var updater = new ManifestUpdater(repo.Root);

        // Its speed is the benchmark's S9 (bench/run.sh), not an assertion here.
        var results = await updater.UpdateTreeAsync("apps", new ContainerImageTarget(), "ghcr.io/acme/needle:4.2.0");

        Assert.That(results.Select(r => r.File), Is.EqualTo(new[] { "apps/team34/svc1234.yaml" }));
        Assert.That(results[0].Changed, Is.True);
        Assert.That(File.ReadAllText(Path.Combine(repo.Root, "apps/team34/svc1234.yaml")), Does.Contain("image: ghcr.io/acme/needle:4.2.0\n"));
        Assert.That(File.ReadAllText(Path.Combine(repo.Root, "apps/team0/svc0.yaml")), Does.Contain("ghcr.io/acme/svc0:1.0.0"), "the others are untouched");
    }

    [Test]
    public async Task A_folder_update_writes_nothing_when_one_file_is_ambiguous()
    {
        using var repo = new ScratchRepository();
        var good = repo.Write("apps/a.yaml", Deployment);
        var bad = repo.Write("apps/b.yaml", Deployment + "---\n" + Deployment.Replace("name: web\n  ", "name: web2\n  "));
        repo.Write("apps/c.yaml", "kind: ConfigMap\ndata: {image: ghcr.io/acme/web}\n");
        var before = await File.ReadAllBytesAsync(good);

        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateTreeAsync("apps", new ContainerImageTarget(), "ghcr.io/acme/web:2"));

        Assert.That(ex!.Message, Does.Contain("apps/b.yaml").And.Contain("ambiguous"));
        Assert.That(await File.ReadAllBytesAsync(good), Is.EqualTo(before));

        var all = await new ManifestUpdater(repo.Root).UpdateTreeAsync("apps", new ContainerImageTarget(AllMatches: true), "ghcr.io/acme/web:2");
        Assert.That(all.Select(r => (r.File, r.Changes.Count)), Is.EqualTo(new[] { ("apps/a.yaml", 1), ("apps/b.yaml", 2) }));
    }

    [Test]
    public void A_folder_without_the_image_is_an_error()
    {
        using var repo = new ScratchRepository();
        repo.Write("apps/a.yaml", Deployment);
        var ex = Assert.CatchAsync<PromotionException>(() => new ManifestUpdater(repo.Root).UpdateTreeAsync("apps", new ContainerImageTarget(), "ghcr.io/acme/other:2"));
        Assert.That(ex!.Message, Does.Contain("no manifest under apps has a container for ghcr.io/acme/other"));
    }
}
