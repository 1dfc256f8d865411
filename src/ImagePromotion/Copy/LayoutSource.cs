using System.Text.Json;
using ImagePromotion.Registry;

namespace ImagePromotion.Copy;

/// <summary>
/// Reads an OCI image layout directory (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/&lt;alg&gt;/&lt;hex&gt;</c>),
/// as written by <c>buildah push IMAGE oci:DIR:TAG</c>. A reference is a tag found in the
/// <c>org.opencontainers.image.ref.name</c> annotation, or a digest.
/// </summary>
public sealed class LayoutSource(string directory) : IImageSource
{
    private const string RefName = "org.opencontainers.image.ref.name";

    /// <inheritdoc/>
    public string Name => "oci:" + directory;
    /// <inheritdoc/>
    public string? Registry => null;
    /// <inheritdoc/>
    public string? Repository => null;

    /// <inheritdoc/>
    public async Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct)
    {
        var digest = expected ?? (Digest.TryParse(reference, out var d) ? d : await ResolveTagAsync(reference, ct).ConfigureAwait(false));
        var path = BlobPath(digest);
        if (!File.Exists(path))
            throw new PromotionException($"OCI layout {directory} has no manifest {digest}: the layout is incomplete; run BuildOnce again");
        var info = new FileInfo(path);
        if (info.Length > Manifest.MaxBytes)
            throw new PromotionException($"manifest {digest} in {directory} is over the {Manifest.MaxBytes}-byte limit");
        var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        return Manifest.Parse(bytes, null, $"{Name}@{digest}", digest);
    }

    /// <inheritdoc/>
    public Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct)
    {
        var path = BlobPath(blob.Digest);
        if (!File.Exists(path))
            throw new PromotionException($"OCI layout {directory} has no blob {blob.Digest}: the layout is incomplete; run BuildOnce again");
        Stream s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Task.FromResult(new BlobStream(s, null));
    }

    /// <inheritdoc/>
    public Task<bool> HasBlobAsync(Descriptor blob, CancellationToken ct) => Task.FromResult(File.Exists(BlobPath(blob.Digest)));

    /// <summary>True when the layout exists and holds an image under <paramref name="tag"/>.</summary>
    public bool HasTag(string tag)
    {
        try { return ResolveTagAsync(tag, CancellationToken.None).GetAwaiter().GetResult() is var _; }
        catch (PromotionException) { return false; }
    }

    private string BlobPath(Digest digest) => Path.Combine(directory, "blobs", digest.Algorithm, digest.Encoded);

    private async Task<Digest> ResolveTagAsync(string tag, CancellationToken ct)
    {
        var indexPath = Path.Combine(directory, "index.json");
        if (!File.Exists(indexPath))
            throw new PromotionException($"{directory} is not an OCI image layout (no index.json): give the directory that BuildOnce wrote");
        using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(indexPath, ct).ConfigureAwait(false));
        if (doc.RootElement.TryGetProperty("manifests", out var manifests) && manifests.ValueKind == JsonValueKind.Array)
        {
            foreach (var m in manifests.EnumerateArray())
            {
                if (m.TryGetProperty("annotations", out var a) && a.TryGetProperty(RefName, out var name) && name.GetString() == tag
                    && Digest.TryParse(m.GetProperty("digest").GetString(), out var digest))
                    return digest;
            }
        }
        throw new PromotionException($"OCI layout {directory} has no image tagged '{tag}': run BuildOnce for this commit first");
    }
}
