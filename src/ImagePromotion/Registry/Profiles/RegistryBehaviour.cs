using System.Collections.Concurrent;

namespace ImagePromotion.Registry.Profiles;

/// <summary>
/// What one registry host does in this run: its <see cref="Profile"/> to start with, corrected by what the
/// registry actually answers. The first refused mount stops mount attempts to that host for the run (a
/// GitLab-style token service refuses every one of them); the first refused monolithic PUT switches the
/// host to chunked uploads; <c>OCI-Chunk-Min-Length</c> and a 413/416 on a PATCH set the chunk bounds.
/// Thread-safe: parallel blob transfers learn and read it at once.
/// </summary>
public sealed class RegistryBehaviour(string host, RegistryProfile profile)
{
    private const long DefaultMaxChunk = 4 * 1024 * 1024;
    private volatile bool _mountRefused;
    private volatile bool _monolithicRefused;
    private long _minChunk = profile.MinChunkBytes ?? 0;
    private long _maxChunk = profile.MaxChunkBytes ?? 0;

    /// <summary>The registry host (host[:port]) this is about.</summary>
    public string Host { get; } = host;
    /// <summary>The family profile it started from.</summary>
    public RegistryProfile Profile { get; } = profile;

    /// <summary>False once the host refused a cross-repository mount: later blobs are uploaded straight away.</summary>
    public bool TryMounts => !_mountRefused;

    /// <summary>How the next blob is uploaded.</summary>
    public UploadMethod Upload =>
        _monolithicRefused || Profile.Upload == UploadMethod.Chunked ? UploadMethod.Chunked : UploadMethod.Monolithic;

    /// <summary>The smallest chunk (except the last) the host takes; 0 when it states none.</summary>
    public long MinChunkBytes => Interlocked.Read(ref _minChunk);

    /// <summary>The largest PATCH body to send; 0 means the whole blob in one PATCH.</summary>
    public long MaxChunkBytes => Interlocked.Read(ref _maxChunk);

    /// <summary>Notes a refused cross-repository mount: no more mounts are tried on this host in this run.</summary>
    public void MountRefused() => _mountRefused = true;

    /// <summary>Notes a refused monolithic PUT; false when the host takes no chunked uploads either (nothing to switch to).</summary>
    public bool MonolithicRefused()
    {
        if (!Profile.ChunkedUploads) return false;
        _monolithicRefused = true;
        return true;
    }

    /// <summary>The registry stated its minimum chunk (<c>OCI-Chunk-Min-Length</c>, distribution-spec 1.1).</summary>
    public void ChunkMinimumIs(long bytes)
    {
        if (bytes <= 0) return;
        long seen;
        while ((seen = Interlocked.Read(ref _minChunk)) < bytes && Interlocked.CompareExchange(ref _minChunk, bytes, seen) != seen) { }
    }

    /// <summary>
    /// A PATCH was too large (413, or GHCR's 416): send smaller ones from now on. Returns false when the
    /// chunk cannot shrink further (already at the minimum, or at 4 MiB and under).
    /// </summary>
    public bool ChunkTooLarge(long sent)
    {
        var next = sent > DefaultMaxChunk ? DefaultMaxChunk : sent / 2;
        if (next < Math.Max(MinChunkBytes, 64 * 1024)) return false;
        Interlocked.Exchange(ref _maxChunk, next);
        return true;
    }
}

/// <summary>The behaviour of every host one transport talks to, created on first use from the profile table.</summary>
public sealed class RegistryBehaviours(IReadOnlyDictionary<string, string>? families = null)
{
    private readonly ConcurrentDictionary<string, RegistryBehaviour> _hosts = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The behaviour of <paramref name="host"/>, created from its profile on first use and shared after.</summary>
    public RegistryBehaviour For(string host) =>
        _hosts.GetOrAdd(host, h => new RegistryBehaviour(h, RegistryProfiles.For(h, families)));
}
