using System.Security.Cryptography;
using ImagePromotion.Registry;

namespace ImagePromotion.Copy;

/// <summary>
/// Passes a blob through while hashing it and counting bytes. At the end of the stream the size and
/// digest must match the descriptor, or reading fails, so the upload it feeds is aborted before the
/// registry can commit it (the registry checks the digest too, but we never rely on one side alone).
/// </summary>
internal sealed class VerifyingStream(Stream inner, Descriptor expected, Action<long>? progress = null) : Stream
{
    private readonly IncrementalHash _hash = expected.Digest.CreateHash();
    private long _read;
    private bool _verified;

    /// <summary>Set when the content did not match; the copier reports it instead of the transport error it causes.</summary>
    public string? Failure { get; private set; }
    public long BytesRead => _read;
    /// <summary>True once the whole blob was read and matched its size and digest.</summary>
    public bool Verified => _verified && Failure is null;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try { n = inner.Read(buffer); }
        catch (Exception ex) when (ex is IOException or HttpRequestException) { throw SourceBroke(ex); }
        return Account(buffer[..n], n);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n;
        try { n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (ex is IOException or HttpRequestException) { throw SourceBroke(ex); }
        return Account(buffer.Span[..n], n);
    }

    // The upload fails with the read error inside it, which would name the destination; the source broke.
    private Exception SourceBroke(Exception ex)
    {
        Failure ??= $"reading blob {expected.Digest} from the source broke off after {_read} of {expected.Size} bytes ({ex.Message.TrimEnd('.')})";
        return ex;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Account(ReadOnlySpan<byte> data, int n)
    {
        _read += n;
        if (_read > expected.Size)
            Fail($"blob {expected.Digest} is longer than its descriptor's {expected.Size} bytes");
        if (n > 0) { _hash.AppendData(data); progress?.Invoke(_read); return n; }
        if (!_verified)
        {
            _verified = true;
            if (_read != expected.Size)
                Fail($"blob {expected.Digest} ended after {_read} of {expected.Size} bytes");
            var actual = expected.Digest.Algorithm + ":" + Convert.ToHexStringLower(_hash.GetHashAndReset());
            if (actual != expected.Digest.ToString())
                Fail($"blob {expected.Digest} arrived with content hashing to {actual}");
        }
        return 0;
    }

    private void Fail(string message)
    {
        Failure ??= message;
        throw new InvalidDataException(message);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expected.Size;
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _hash.Dispose(); inner.Dispose(); }
        base.Dispose(disposing);
    }
}
