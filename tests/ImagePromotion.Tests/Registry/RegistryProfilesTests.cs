using System.Text.RegularExpressions;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Profiles;

namespace ImagePromotion.Tests.Registry;

/// <summary>The registry-family table: lookups, Docker Hub's names in one place, and every quirk with its report.</summary>
[TestFixture]
public sealed class RegistryProfilesTests
{
    [TestCase("123456789012.dkr.ecr.eu-central-1.amazonaws.com", "ecr")]
    [TestCase("public.ecr.aws", "ecr")]
    [TestCase("docker.io", "dockerhub")]
    [TestCase("registry-1.docker.io", "dockerhub")]
    [TestCase("ghcr.io", "ghcr")]
    [TestCase("europe-west1-docker.pkg.dev", "gar")]
    [TestCase("gcr.io", "gar")]
    [TestCase("acme.azurecr.io", "acr")]
    [TestCase("quay.io", "quay")]
    [TestCase("acme.jfrog.io", "artifactory")]
    [TestCase("registry.gitlab.com", "gitlab")]
    [TestCase("127.0.0.1:5000", "distribution")]
    [TestCase("s3.amazonaws.com", "distribution")]
    public void Hosts_map_to_their_family(string host, string family) =>
        Assert.That(RegistryProfiles.For(host).Family, Is.EqualTo(family));

    [Test]
    public void A_family_named_for_a_host_wins_and_an_unknown_name_is_one_line_listing_the_valid_ones()
    {
        var named = new Dictionary<string, string> { ["harbor.internal:443"] = "harbor", ["odd:5000"] = "nexus" };
        Assert.That(RegistryProfiles.For("harbor.internal:443", named).Family, Is.EqualTo("harbor"));
        var ex = Assert.Catch<PromotionException>(() => RegistryProfiles.For("odd:5000", named))!;
        Assert.That(ex.Message, Does.Contain("'nexus'").And.Contain("harbor").And.Contain("pulp"));
    }

    [Test]
    public void Docker_Hub_s_names_resolve_in_one_place()
    {
        Assert.That(ImageReference.Parse("index.docker.io/library/nginx").Registry, Is.EqualTo("docker.io"));
        Assert.That(ImageReference.Parse("nginx").ApiHost, Is.EqualTo("registry-1.docker.io"));
        Assert.That(RegistryProfiles.RegistryOfApiHost("registry-1.docker.io"), Is.EqualTo("docker.io"));
        Assert.That(RegistryProfiles.ApiHost("ghcr.io"), Is.EqualTo("ghcr.io"));
        var sources = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src", "ImagePromotion"), "*.cs", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("registry-1.docker.io", StringComparison.Ordinal))
            .Select(Path.GetFileName);
        Assert.That(sources, Is.EqualTo(new[] { "RegistryProfiles.cs" }), "the API host is spelled only in the profile table");
    }

    [Test]
    public void Every_family_says_why_and_cites_a_public_report()
    {
        foreach (var profile in RegistryProfiles.All)
        {
            Assert.That(profile.Quirks, Is.Not.Empty, profile.Family);
            foreach (var quirk in profile.Quirks)
            {
                Assert.That(quirk.Report, Does.Match(@"^[\w.-]+/[\w.-]+#\d+$"), $"{profile.Family}: {quirk.Why}");
                Assert.That(quirk.Why, Is.Not.Empty.And.Not.Contains("\n"));
            }
        }
    }

    [Test]
    public void The_readme_compatibility_table_has_a_row_per_family()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var table = readme[readme.IndexOf("### Registry compatibility", StringComparison.Ordinal)..];
        foreach (var profile in RegistryProfiles.All)
            Assert.That(Regex.IsMatch(table, $@"^\| `{profile.Family}` \|", RegexOptions.Multiline), Is.True, $"README row for {profile.Family}");
    }

    [Test]
    public void A_run_adapts_when_a_registry_answers_differently_from_its_profile()
    {
        var behaviour = new RegistryBehaviours().For("127.0.0.1:5000");
        Assert.That(behaviour.TryMounts, Is.True);
        Assert.That(behaviour.Upload, Is.EqualTo(UploadMethod.Monolithic));

        behaviour.MountRefused();
        Assert.That(behaviour.MonolithicRefused(), Is.True);
        behaviour.ChunkMinimumIs(5 * 1024 * 1024);

        Assert.That(behaviour.TryMounts, Is.False);
        Assert.That(behaviour.Upload, Is.EqualTo(UploadMethod.Chunked));
        Assert.That(behaviour.MinChunkBytes, Is.EqualTo(5 * 1024 * 1024));
        Assert.That(new RegistryBehaviours().For("europe-docker.pkg.dev").MonolithicRefused(), Is.False, "GAR takes no chunked uploads: nothing to switch to");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && Directory.Exists(Path.Combine(dir.FullName, "src", "ImagePromotion")))
                return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
