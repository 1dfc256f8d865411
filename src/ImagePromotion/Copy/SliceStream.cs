namespace ImagePromotion.Copy;

/// <summary>
/// The next <c>length</c> bytes of a stream, for one PATCH chunk of a chunked upload. Disposing the slice
/// leaves the underlying stream open: the next chunk reads on from where this one stopped.
/// </summary>
internal sealed class SliceStream : Stream
{
    private readonly Stream _inner;
    private readonly long _size;
    private long _left;

    public SliceStream(Stream inner, long size) { _inner = inner; _size = size; _left = size; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left <= 0) return 0;
        var n = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken).ConfigureAwait(false);
        if (n == 0) throw new EndOfStreamException($"the source ended {_left} bytes before the end of a chunk");
        _left -= n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _size;
    public override long Position { get => _size - _left; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
