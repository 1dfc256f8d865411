namespace ImagePromotion.Copy;

using ImagePromotion.Registry;

/// <summary>Where an image is read from: a registry repository, or an OCI image layout on disk (what BuildOnce writes).</summary>
public interface IImageSource
{
    /// <summary>For messages and plans, e.g. <c>127.0.0.1:5000/team/app</c> or <c>oci:.artifacts/oci</c>.</summary>
    string Name { get; }
    /// <summary>The registry host when the source is a registry: blobs can then be mounted inside it.</summary>
    string? Registry { get; }
    /// <summary>The repository path inside <see cref="Registry"/> (<c>team/app</c>); null for a layout on disk.</summary>
    string? Repository { get; }

    /// <summary>Reads the manifest a tag or digest names, as bytes with their digest.</summary>
    /// <param name="reference">A tag or a digest (<c>sha256:…</c>).</param>
    /// <param name="expected">When known, the digest the bytes must hash to; a mismatch is refused.</param>
    /// <param name="ct">Cancels the read.</param>
    /// <exception cref="PromotionException">The reference does not exist in the source.</exception>
    Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct);

    /// <summary>Opens a blob as a stream; dispose the returned owner when done.</summary>
    Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct);

    /// <summary>Whether the source holds a blob (asked only for non-distributable layers, which it may lack).</summary>
    Task<bool> HasBlobAsync(Descriptor blob, CancellationToken ct) => Task.FromResult(true);
}

/// <summary>A blob's byte stream and what must be disposed with it (the HTTP response it reads from).</summary>
/// <param name="stream">The blob content, read once from the start.</param>
/// <param name="owner">Disposed after the stream; null when the stream owns everything.</param>
public sealed class BlobStream(Stream stream, IDisposable? owner) : IAsyncDisposable
{
    /// <summary>The blob content, read once from the start.</summary>
    public Stream Stream { get; } = stream;

    /// <summary>Disposes the stream, then its owner.</summary>
    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync().ConfigureAwait(false);
        owner?.Dispose();
    }
}

/// <summary>An image source in a registry repository; blobs can be mounted from it when the destination is the same registry.</summary>
/// <param name="client">Client for the source registry.</param>
/// <param name="repository">Repository path inside that registry (<c>team/app</c>).</param>
public sealed class RegistrySource(RegistryClient client, string repository) : IImageSource
{
    /// <inheritdoc/>
    public string Name => $"{client.Registry}/{repository}";
    /// <inheritdoc/>
    public string? Registry => client.Registry;
    /// <inheritdoc/>
    public string? Repository => repository;
    /// <summary>The client for the source registry, shared with the copy when source and destination are one registry.</summary>
    public RegistryClient Client => client;

    /// <inheritdoc/>
    public async Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct) =>
        await client.GetManifestAsync(repository, reference, expected, ct).ConfigureAwait(false)
        ?? throw new PromotionException($"image {Name}{(reference.Contains(':') ? "@" : ":")}{reference} does not exist: check the tag or digest, or run the earlier phase first");

    /// <inheritdoc/>
    public Task<bool> HasBlobAsync(Descriptor blob, CancellationToken ct) => client.BlobExistsAsync(repository, blob.Digest, ct);

    /// <inheritdoc/>
    public async Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct)
    {
        var response = await client.GetBlobAsync(repository, blob.Digest, ct).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return new BlobStream(stream, response);
    }
}
