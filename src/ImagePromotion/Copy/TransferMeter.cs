using System.Diagnostics;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Copy;

/// <summary>The bytes one copy has streamed so far, across its parallel blobs; raises <see cref="CopyProgress"/>.</summary>
internal sealed class TransferMeter(TransferEvents events, string destination, long totalBytes)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _done;

    public void Add(long bytes, bool publish)
    {
        var done = Interlocked.Add(ref _done, bytes);
        if (publish) events.Publish(new CopyProgress(destination, done, totalBytes, HumanSize.PerSecond(done, _clock.Elapsed)));
    }
}

/// <summary>
/// Turns one blob attempt's read positions into <see cref="BlobProgress"/> events at most every 250 ms, and
/// feeds the copy's meter; a failed attempt takes its bytes back, so a retried blob is counted once.
/// </summary>
internal sealed class BlobProgressReporter(TransferEvents events, TransferMeter? meter, Descriptor blob, Stopwatch clock)
{
    private static readonly long Interval = Stopwatch.Frequency / 4;
    private long _reported;
    private long _lastTick;

    public void Report(long position)
    {
        var delta = position - _reported;
        _reported = position;
        var now = Stopwatch.GetTimestamp();
        var publish = now - _lastTick >= Interval && events.HasObservers;
        if (publish) _lastTick = now;
        meter?.Add(delta, publish);
        if (publish) events.Publish(new BlobProgress(blob.Digest, position, blob.Size, HumanSize.PerSecond(position, clock.Elapsed)));
    }

    public void Done()
    {
        meter?.Add(0, events.HasObservers);
        if (events.HasObservers) events.Publish(new BlobProgress(blob.Digest, blob.Size, blob.Size, HumanSize.PerSecond(blob.Size, clock.Elapsed)));
    }

    public void Undo()
    {
        meter?.Add(-_reported, publish: false);
        _reported = 0;
    }
}
