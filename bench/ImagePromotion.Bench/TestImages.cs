using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ImagePromotion.Bench;

public sealed record BlobFile(string Digest, long Size, string DiffId, string Path);

public sealed record PushedImage(string Repository, string Tag, string Digest, string MediaType, IReadOnlyList<(string Digest, long Size)> Blobs);

/// <summary>
/// Builds images whose layers are tars of random bytes, gzip'd at level 1: random data does not compress,
/// so every byte is real work for both tools and no cache or dedup can help either of them. Layers are
/// written to temp files once and pushed with a plain HTTP client of the bench's own.
/// </summary>
public sealed class TestImages(string workDirectory) : IDisposable
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>Every blob and manifest the bench pushed, by digest: the access log names digests, this gives their sizes.</summary>
    public Dictionary<string, long> Sizes { get; } = new(StringComparer.Ordinal);

    public async Task<BlobFile> CreateLayerAsync(long randomBytes, CancellationToken ct)
    {
        var path = Path.Combine(workDirectory, $"layer-{Guid.NewGuid():N}.tar.gz");
        using var diff = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            await using var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true);
            void Write(ReadOnlySpan<byte> data) { diff.AppendData(data); gzip.Write(data); }
            Write(TarHeader("data.bin", randomBytes));
            var buffer = new byte[1 << 20];
            for (long left = randomBytes; left > 0;)
            {
                var n = (int)Math.Min(buffer.Length, left);
                Random.Shared.NextBytes(buffer.AsSpan(0, n));
                Write(buffer.AsSpan(0, n));
                left -= n;
            }
            var pad = (int)((512 - randomBytes % 512) % 512);
            Write(new byte[pad + 1024]); // padding, then the two zero blocks that end a tar
        }
        string digest;
        await using (var read = File.OpenRead(path))
            digest = "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(read, ct));
        var layer = new BlobFile(digest, new FileInfo(path).Length, "sha256:" + Convert.ToHexStringLower(diff.GetHashAndReset()), path);
        Sizes[layer.Digest] = layer.Size;
        return layer;
    }

    /// <summary>Pushes one image (config + layers) to <paramref name="registry"/>; returns its manifest.</summary>
    public async Task<(PushedImage Image, byte[] Manifest)> PushImageAsync(string registry, string repository, string? tag,
        IReadOnlyList<BlobFile> layers, string architecture, CancellationToken ct)
    {
        var config = JsonSerializer.SerializeToUtf8Bytes(new
        {
            architecture,
            os = "linux",
            created = "2026-11-23T00:00:00Z",
            config = new { Cmd = new[] { "/bin/true" }, Labels = new Dictionary<string, string> { ["bench.nonce"] = Guid.NewGuid().ToString("N") } },
            rootfs = new { type = "layers", diff_ids = layers.Select(l => l.DiffId).ToArray() },
        });
        var configDigest = Sha(config);
        Sizes[configDigest] = config.Length;
        await PushBlobAsync(registry, repository, configDigest, config.Length, () => new MemoryStream(config), ct);
        foreach (var layer in layers)
            await PushBlobAsync(registry, repository, layer.Digest, layer.Size, () => File.OpenRead(layer.Path), ct);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciManifest,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = configDigest, size = config.Length },
            layers = layers.Select(l => new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = l.Digest, size = l.Size }).ToArray(),
        });
        var digest = await PutManifestAsync(registry, repository, tag ?? Sha(manifest), manifest, OciManifest, ct);
        var blobs = new List<(string, long)> { (configDigest, config.Length) };
        blobs.AddRange(layers.Select(l => (l.Digest, l.Size)));
        return (new PushedImage(repository, tag ?? digest, digest, OciManifest, blobs), manifest);
    }

    /// <summary>Pushes an OCI index over one image per architecture.</summary>
    public async Task<PushedImage> PushIndexAsync(string registry, string repository, string tag,
        IReadOnlyList<(string Architecture, IReadOnlyList<BlobFile> Layers)> platforms, CancellationToken ct)
    {
        var children = new List<object>();
        var blobs = new List<(string, long)>();
        foreach (var (arch, layers) in platforms)
        {
            var (image, bytes) = await PushImageAsync(registry, repository, null, layers, arch, ct);
            children.Add(new { mediaType = OciManifest, digest = image.Digest, size = bytes.Length, platform = new { architecture = arch, os = "linux" } });
            blobs.AddRange(image.Blobs);
        }
        var index = JsonSerializer.SerializeToUtf8Bytes(new { schemaVersion = 2, mediaType = OciIndex, manifests = children });
        var digest = await PutManifestAsync(registry, repository, tag, index, OciIndex, ct);
        return new PushedImage(repository, tag, digest, OciIndex, blobs);
    }

    private async Task PushBlobAsync(string registry, string repository, string digest, long size, Func<Stream> open, CancellationToken ct)
    {
        using (var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"http://{registry}/v2/{repository}/blobs/{digest}"), ct))
            if (head.IsSuccessStatusCode) return;
        using var start = await _http.PostAsync($"http://{registry}/v2/{repository}/blobs/uploads/", null, ct);
        if (start.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"upload start to {registry}/{repository}: {(int)start.StatusCode}");
        var location = start.Headers.Location!;
        if (!location.IsAbsoluteUri) location = new Uri(new Uri($"http://{registry}"), location);
        var sep = location.Query.Length > 1 ? "&" : "?";
        await using var body = open();
        var content = new StreamContent(body, 1 << 20);
        content.Headers.ContentLength = size;
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _http.PutAsync(new Uri(location + sep + "digest=" + Uri.EscapeDataString(digest)), content, ct);
        if (put.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"blob upload to {registry}/{repository}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(ct)}");
    }

    private async Task<string> PutManifestAsync(string registry, string repository, string reference, byte[] bytes, string mediaType, CancellationToken ct)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await _http.PutAsync($"http://{registry}/v2/{repository}/manifests/{reference}", content, ct);
        if (put.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"manifest put to {registry}/{repository}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(ct)}");
        var digest = Sha(bytes);
        Sizes[digest] = bytes.Length;
        return digest;
    }

    public static string Sha(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] TarHeader(string name, long size)
    {
        var h = new byte[512];
        void Put(int offset, string text) => Encoding.ASCII.GetBytes(text).CopyTo(h, offset);
        Put(0, name);
        Put(100, "0000644\0");
        Put(108, "0000000\0");
        Put(116, "0000000\0");
        Put(124, Convert.ToString(size, 8).PadLeft(11, '0') + "\0");
        Put(136, Convert.ToString(1_700_000_000L, 8).PadLeft(11, '0') + "\0");
        Put(148, "        ");
        h[156] = (byte)'0';
        Put(257, "ustar\0");
        Put(263, "00");
        var sum = h.Sum(b => (int)b);
        Put(148, Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
        return h;
    }

    public void Dispose() => _http.Dispose();
}
