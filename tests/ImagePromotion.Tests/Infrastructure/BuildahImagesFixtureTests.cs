using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Infrastructure;

[TestFixture]
public sealed class BuildahImagesFixtureTests
{
    [Test]
    public async Task Buildah_pushes_a_real_three_platform_index()
    {
        await using var buildah = BuildahImages.Create();
        await using var registry = await RegistryServer.StartAsync();

        var index = await buildah.PushMultiArchIndexAsync(registry, "built/app", "v1");

        Assert.That(index.MediaType, Is.EqualTo(TestImages.OciIndex));
        Assert.That(index.Platforms.Select(p => p.Platform), Is.EqualTo(new[] { "linux/amd64", "linux/arm64", "linux/arm/v7" }));
        Assert.That(index.Platforms.Select(p => p.Digest), Is.Unique);
        using var client = registry.CreateClient();
        Assert.That(await client.GetManifestDigestAsync("built/app", "v1"), Is.EqualTo(index.Digest));
        foreach (var platform in index.Platforms)
        {
            var child = (await client.GetManifestAsync("built/app", platform.Digest.ToString()))!;
            var layer = Digest.Parse(child.Json.GetProperty("layers")[0].GetProperty("digest").GetString()!);
            Assert.That(await client.BlobExistsAsync("built/app", layer), Is.True);
        }
    }

    [Test]
    public async Task Buildah_pushes_to_a_tls_registry_with_basic_auth()
    {
        await using var buildah = BuildahImages.Create();
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.BasicAuth().WithTls());

        var digest = await buildah.PushImageAsync(registry, "app", "v1", "linux/arm64", TestImageFormat.DockerV2);

        using var client = registry.CreateClient();
        var head = (await client.HeadManifestAsync("app", "v1"))!;
        Assert.That(head.Digest, Is.EqualTo(digest));
        Assert.That(head.MediaType, Is.EqualTo(TestImages.DockerManifest));
    }
}
