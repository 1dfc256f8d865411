using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Infrastructure;

[TestFixture]
public sealed class TestImagesFixtureTests
{
    [Test]
    public async Task Random_image_has_real_gzip_tar_layers_and_a_digest_exact_manifest()
    {
        await using var registry = await RegistryServer.StartAsync();
        var image = await TestImages.PushRandomImageAsync(registry, "team/app", "v1", layerCount: 3, layerSize: 4096);
        using var client = registry.CreateClient();

        var manifest = (await client.GetManifestAsync("team/app", "v1"))!;
        Assert.That(manifest.Digest, Is.EqualTo(image.Digest));
        Assert.That(manifest.Bytes, Is.EqualTo(image.ManifestBytes));
        Assert.That(manifest.MediaType, Is.EqualTo(TestImages.OciManifest));
        Assert.That(image.LayerDigests, Has.Count.EqualTo(3).And.Unique);

        foreach (var layer in image.Layers)
        {
            var blob = (await client.GetBlobAsync("team/app", layer.Digest))!;
            Assert.That(blob.LongLength, Is.EqualTo(layer.Size));
            using var tar = new TarReader(new GZipStream(new MemoryStream(blob), CompressionMode.Decompress));
            var entry = tar.GetNextEntry()!;
            Assert.That(entry.Length, Is.EqualTo(4096));
        }
        Assert.That(await client.BlobExistsAsync("team/app", image.Config.Digest), Is.True);
        Assert.That(await client.BlobExistsAsync("team/app", Digest.Sha256([1, 2, 3])), Is.False);
        Assert.That(await client.GetManifestDigestAsync("team/app", "missing"), Is.Null);
        Assert.That(await client.ListTagsAsync("team/app"), Is.EqualTo(new[] { "v1" }));
    }

    [Test]
    public async Task Docker_v2_images_and_indexes_are_pushed_with_docker_media_types()
    {
        await using var registry = await RegistryServer.StartAsync();
        var list = await TestImages.PushIndexAsync(registry, "app", "multi", ["linux/amd64", "linux/arm/v7"], format: TestImageFormat.DockerV2);
        using var client = registry.CreateClient();

        var head = (await client.HeadManifestAsync("app", "multi"))!;
        Assert.That(head.Digest, Is.EqualTo(list.Digest));
        Assert.That(head.MediaType, Is.EqualTo(TestImages.DockerManifestList));
        var json = (await client.GetManifestAsync("app", "multi"))!.Json;
        Assert.That(json.GetProperty("manifests")[1].GetProperty("platform").GetProperty("variant").GetString(), Is.EqualTo("v7"));
        foreach (var child in list.Children)
            Assert.That((await client.GetManifestAsync("app", child.Digest.ToString()))!.MediaType, Is.EqualTo(TestImages.DockerManifest));
    }

    [Test]
    public async Task Oci_index_children_are_pushed_by_digest_before_the_index()
    {
        await using var registry = await RegistryServer.StartAsync();
        var index = await TestImages.PushIndexAsync(registry, "app", "v2");
        var requests = await registry.GetRequestsAsync();

        var manifestPuts = requests.Where(r => r.Method == "PUT" && r.Path.Contains("/manifests/")).Select(r => r.Path).ToList();
        Assert.That(manifestPuts, Is.EqualTo(new[]
        {
            $"/v2/app/manifests/{index.Children[0].Digest}",
            $"/v2/app/manifests/{index.Children[1].Digest}",
            "/v2/app/manifests/v2",
        }));
        Assert.That(index.Children.Select(c => c.Platform), Is.EqualTo(new[] { "linux/amd64", "linux/arm64" }));
    }

    [Test]
    public async Task Helper_authenticates_with_basic_credentials_and_fails_without()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.BasicAuth());
        var image = await TestImages.PushRandomImageAsync(registry, "app", "v1", layerCount: 1);

        using var anonymous = registry.CreateClient(new NetworkCredential("tester", "wrong"));
        var error = Assert.ThrowsAsync<HttpRequestException>(() => anonymous.GetManifestDigestAsync("app", "v1"));
        Assert.That(error!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        using var client = registry.CreateClient();
        Assert.That(await client.GetManifestDigestAsync("app", "v1"), Is.EqualTo(image.Digest));
    }

    [Test]
    public async Task Helper_pushes_through_token_auth()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.TokenAuth());
        var image = await TestImages.PushRandomImageAsync(registry, "app", "v1", layerCount: 2);
        using var client = registry.CreateClient();
        Assert.That(await client.GetManifestDigestAsync("app", "v1"), Is.EqualTo(image.Digest));
        // The registry's challenge names the actions in whatever order it builds them ("pull,push" or "push,pull").
        var pushTokens = registry.TokenServer!.Requests.Where(r => r.Status == 200 && r.Scopes.Any(s =>
            s.StartsWith("repository:app:", StringComparison.Ordinal) && s["repository:app:".Length..].Split(',').Contains("push"))).ToList();
        Assert.That(pushTokens, Is.Not.Empty, "token requests: " + string.Join("; ", registry.TokenServer.Requests.Select(r => $"{r.Method} {string.Join(" ", r.Scopes)} -> {r.Status}")));
    }
}
