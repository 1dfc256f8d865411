using ImagePromotion.Copy;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// A registry source read over a slow link: blob streams deliver at most <paramref name="bytesPerSecond"/>,
/// and <see cref="HalfwayThrough"/> completes once half of the largest blob has been handed to the
/// copier, i.e. while its upload to the destination is in flight.
/// </summary>
internal sealed class ThrottledSource(RegistrySource inner, long bytesPerSecond, Digest watched, long watchedSize) : IImageSource
{
    private readonly TaskCompletionSource _halfway = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task HalfwayThrough => _halfway.Task;
    public string Name => inner.Name;
    public string? Registry => inner.Registry;
    public string? Repository => inner.Repository;

    public Task<Manifest> GetManifestAsync(string reference, Digest? expected, CancellationToken ct) =>
        inner.GetManifestAsync(reference, expected, ct);

    public async Task<BlobStream> OpenBlobAsync(Descriptor blob, CancellationToken ct)
    {
        var opened = await inner.OpenBlobAsync(blob, ct);
        var onHalf = blob.Digest == watched ? () => _halfway.TrySetResult() : (Action?)null;
        return new BlobStream(new SlowStream(opened.Stream, bytesPerSecond, watchedSize / 2, onHalf), new Owner(opened));
    }

    private sealed class Owner(BlobStream opened) : IDisposable
    {
        public void Dispose() => opened.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private sealed class SlowStream(Stream inner, long bytesPerSecond, long halfway, Action? onHalf) : Stream
    {
        private long _read;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var chunk = buffer[..Math.Min(buffer.Length, 64 * 1024)];
            var n = await inner.ReadAsync(chunk, cancellationToken);
            _read += n;
            if (_read >= halfway) onHalf?.Invoke();
            await Task.Delay(TimeSpan.FromSeconds((double)n / bytesPerSecond), cancellationToken);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
