using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Infrastructure;

public enum TestImageFormat { Oci, DockerV2 }

/// <summary>A blob as referenced by a descriptor.</summary>
public sealed record PushedBlob(Digest Digest, long Size, string MediaType);

/// <summary>An image manifest pushed by <see cref="TestImages"/>; <see cref="ManifestBytes"/> hash to <see cref="Digest"/>.</summary>
public sealed record PushedImage(string Repository, string? Tag, Digest Digest, string MediaType, byte[] ManifestBytes,
    PushedBlob Config, IReadOnlyList<PushedBlob> Layers, string Platform)
{
    public IReadOnlyList<Digest> LayerDigests => Layers.Select(l => l.Digest).ToList();
    /// <summary>Config and layers: every blob a copy must transfer.</summary>
    public IReadOnlyList<PushedBlob> Blobs => [Config, .. Layers];
}

/// <summary>A multi-platform index and the child manifests it lists (pushed by digest before the index).</summary>
public sealed record PushedIndex(string Repository, string? Tag, Digest Digest, string MediaType, byte[] ManifestBytes,
    IReadOnlyList<PushedImage> Children);

/// <summary>
/// Pushes synthetic images straight through the distribution API, so tests can build registry state
/// without the engine under test. Layers are real gzip-compressed tars of random bytes, so each call
/// makes unique digests and the content is incompressible (sizes stay what the test asked for).
/// </summary>
public static class TestImages
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    public static async Task<PushedImage> PushRandomImageAsync(RegistryServer registry, string repository, string? tag,
        int layerCount = 2, int layerSize = 1024, TestImageFormat format = TestImageFormat.Oci,
        string platform = "linux/amd64", CancellationToken cancellationToken = default, IReadOnlyDictionary<string, string>? labels = null)
    {
        using var client = registry.CreateClient();
        return await PushRandomImageAsync(client, repository, tag, layerCount, layerSize, format, platform, cancellationToken, labels);
    }

    /// <summary>
    /// Pushes layers, config and manifest; tags it when <paramref name="tag"/> is given, else pushes by digest.
    /// <paramref name="labels"/> go into the image config's Labels (e.g. the revision label a build carries).
    /// </summary>
    public static async Task<PushedImage> PushRandomImageAsync(RegistryTestClient client, string repository, string? tag,
        int layerCount = 2, int layerSize = 1024, TestImageFormat format = TestImageFormat.Oci,
        string platform = "linux/amd64", CancellationToken cancellationToken = default, IReadOnlyDictionary<string, string>? labels = null)
    {
        var oci = format == TestImageFormat.Oci;
        var layers = new List<PushedBlob>();
        var diffIds = new JsonArray();
        for (var i = 0; i < layerCount; i++)
        {
            var (tar, gz) = RandomLayer(i, layerSize);
            diffIds.Add(Digest.Sha256(tar).ToString());
            layers.Add(new PushedBlob(await client.PushBlobAsync(repository, gz, cancellationToken), gz.Length, oci ? OciLayer : DockerLayer));
        }
        var (os, arch, variant) = ParsePlatform(platform);
        var configJson = new JsonObject
        {
            ["created"] = "2026-01-01T00:00:00Z",
            ["architecture"] = arch,
            ["os"] = os,
            ["config"] = new JsonObject { ["Labels"] = Labels(labels) },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
        };
        if (variant is not null) configJson["variant"] = variant;
        var config = JsonSerializer.SerializeToUtf8Bytes(configJson);
        var configBlob = new PushedBlob(await client.PushBlobAsync(repository, config, cancellationToken), config.Length,
            oci ? OciConfig : DockerConfig);
        var mediaType = oci ? OciManifest : DockerManifest;
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["config"] = Descriptor(configBlob),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)Descriptor(l)).ToArray()),
        });
        var digest = Digest.Sha256(manifest);
        var pushed = await client.PushManifestAsync(repository, tag ?? digest.ToString(), mediaType, manifest, cancellationToken);
        if (pushed != digest) throw new InvalidOperationException($"registry computed {pushed} for a manifest hashing to {digest}");
        return new PushedImage(repository, tag, digest, mediaType, manifest, configBlob, layers, platform);
    }

    public static async Task<PushedIndex> PushIndexAsync(RegistryServer registry, string repository, string? tag,
        IReadOnlyList<string>? platforms = null, int layerCount = 1, int layerSize = 1024,
        TestImageFormat format = TestImageFormat.Oci, CancellationToken cancellationToken = default)
    {
        using var client = registry.CreateClient();
        return await PushIndexAsync(client, repository, tag, platforms, layerCount, layerSize, format, cancellationToken);
    }

    /// <summary>
    /// One random image per platform (default linux/amd64 and linux/arm64), each pushed by digest, then an
    /// OCI index (or Docker manifest list) over them, tagged when <paramref name="tag"/> is given.
    /// </summary>
    public static async Task<PushedIndex> PushIndexAsync(RegistryTestClient client, string repository, string? tag,
        IReadOnlyList<string>? platforms = null, int layerCount = 1, int layerSize = 1024,
        TestImageFormat format = TestImageFormat.Oci, CancellationToken cancellationToken = default)
    {
        platforms ??= ["linux/amd64", "linux/arm64"];
        var children = new List<PushedImage>();
        foreach (var platform in platforms)
            children.Add(await PushRandomImageAsync(client, repository, null, layerCount, layerSize, format, platform, cancellationToken));
        var mediaType = format == TestImageFormat.Oci ? OciIndex : DockerManifestList;
        var entries = new JsonArray();
        foreach (var child in children)
        {
            var (os, arch, variant) = ParsePlatform(child.Platform);
            var platformJson = new JsonObject { ["architecture"] = arch, ["os"] = os };
            if (variant is not null) platformJson["variant"] = variant;
            var entry = Descriptor(new PushedBlob(child.Digest, child.ManifestBytes.Length, child.MediaType));
            entry["platform"] = platformJson;
            entries.Add(entry);
        }
        var index = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["manifests"] = entries,
        });
        var digest = Digest.Sha256(index);
        await client.PushManifestAsync(repository, tag ?? digest.ToString(), mediaType, index, cancellationToken);
        return new PushedIndex(repository, tag, digest, mediaType, index, children);
    }

    /// <summary>A tar holding one file of random bytes, and its gzip: (diff, blob).</summary>
    public static (byte[] Tar, byte[] Gzip) RandomLayer(int index, int size)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, $"layer-{index}.bin")
            {
                DataStream = new MemoryStream(RandomNumberGenerator.GetBytes(size)),
                ModificationTime = DateTimeOffset.UnixEpoch,
            };
            writer.WriteEntry(entry);
        }
        var tarBytes = tar.ToArray();
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(tarBytes);
        return (tarBytes, gz.ToArray());
    }

    private static JsonObject Descriptor(PushedBlob blob) => new()
    {
        ["mediaType"] = blob.MediaType,
        ["digest"] = blob.Digest.ToString(),
        ["size"] = blob.Size,
    };

    private static JsonObject Labels(IReadOnlyDictionary<string, string>? labels)
    {
        var result = new JsonObject { ["test.nonce"] = Guid.NewGuid().ToString("N") };
        foreach (var (key, value) in labels ?? new Dictionary<string, string>()) result[key] = value;
        return result;
    }

    private static (string Os, string Architecture, string? Variant) ParsePlatform(string platform)
    {
        var parts = platform.Split('/');
        if (parts.Length is < 2 or > 3) throw new ArgumentException($"platform '{platform}' must be os/arch[/variant]", nameof(platform));
        return (parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }
}
