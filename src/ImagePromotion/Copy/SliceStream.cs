namespace ImagePromotion.Copy;

/// <summary>
/// The next <c>length</c> bytes of a stream, for one PATCH chunk of a chunked upload. Disposing the slice
/// leaves the underlying stream open: the next chunk reads on from where this one stopped.
/// </summary>
internal sealed class SliceStream(Stream inner, long size) : Registry.Transport.ReadOnlyStream
{
    private long _left = size;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left <= 0) return 0;
        var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken).ConfigureAwait(false);
        if (n == 0) throw new EndOfStreamException($"the source ended {_left} bytes before the end of a chunk");
        _left -= n;
        return n;
    }
}
