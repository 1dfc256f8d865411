namespace ImagePromotion.Copy;

using ImagePromotion.Registry;

/// <summary>Where an image is read from: a registry repository, or an OCI image layout on disk (what BuildOnce writes).</summary>
public interface IImageSource
{
    /// <summary>For messages and plans, e.g. <c>127.0.0.1:5000/team/app</c> or <c>oci:.artifacts/oci</c>.</summary>
    string Name { get; }
    /// <summary>The registry host when the source is a registry: blobs can then be mounted inside it.</summary>
    string? Registry { get; }
    string? Repository { get; }

    Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct);

    /// <summary>Opens a blob as a stream; dispose the returned owner when done.</summary>
    Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct);

    /// <summary>Whether the source holds a blob (asked only for non-distributable layers, which it may lack).</summary>
    Task<bool> HasBlobAsync(Descriptor blob, CancellationToken ct) => Task.FromResult(true);
}

public sealed class BlobStream(Stream stream, IDisposable? owner) : IAsyncDisposable
{
    public Stream Stream { get; } = stream;

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync().ConfigureAwait(false);
        owner?.Dispose();
    }
}

public sealed class RegistrySource(RegistryClient client, string repository) : IImageSource
{
    public string Name => $"{client.Registry}/{repository}";
    public string? Registry => client.Registry;
    public string? Repository => repository;
    public RegistryClient Client => client;

    public async Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct) =>
        await client.GetManifestAsync(repository, reference, expected, ct).ConfigureAwait(false)
        ?? throw new PromotionException($"image {Name}{(reference.Contains(':') ? "@" : ":")}{reference} does not exist: check the tag or digest, or run the earlier phase first");

    public Task<bool> HasBlobAsync(Descriptor blob, CancellationToken ct) => client.BlobExistsAsync(repository, blob.Digest, ct);

    public async Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct)
    {
        var response = await client.GetBlobAsync(repository, blob.Digest, ct).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return new BlobStream(stream, response);
    }
}
