using System.Collections.Concurrent;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Copy;

/// <summary>
/// Writes the transport's events to a pipeline log at normal verbosity, for CI logs and plain terminals:
/// a start and a finish line per streamed blob with human sizes and the rate, a "retrying (n/N) in …: reason"
/// line per retry, and for a long copy at most one "n MiB of m MiB, x MiB/s" line every
/// <see cref="ProgressInterval"/> (10 s). A live terminal display subscribes to <see cref="RegistryTransport.Events"/>
/// itself and need not use this.
/// </summary>
public sealed class TransferLog(IPipelineLog log, TimeProvider? clock = null) : IObserver<TransferEvent>
{
    /// <summary>Least time between two progress lines for one destination.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastProgress = new(StringComparer.Ordinal);

    /// <summary>The log written to.</summary>
    public IPipelineLog Log => log;

    /// <summary>Subscribes a log writer to <paramref name="events"/> once per log (a second copier on the same transport and log adds none).</summary>
    public static void Attach(TransferEvents events, IPipelineLog log)
    {
        lock (events)
        {
            if (!events.Has(o => o is TransferLog t && ReferenceEquals(t.Log, log)))
                events.Subscribe(new TransferLog(log));
        }
    }

    /// <summary>Writes the line an event calls for (blob start and finish, retry, throttled progress); other events are ignored.</summary>
    public void OnNext(TransferEvent value)
    {
        switch (value)
        {
            case BlobStarted b:
                log.Information($"blob {CopyPlan.Short(b.Digest)} {HumanSize.Bytes(b.Size)}: copying to {b.Registry}/{b.Repository}{(b.Attempt > 1 ? $" (attempt {b.Attempt})" : "")}");
                break;
            case BlobFinished f:
                log.Information($"blob {CopyPlan.Short(f.Digest)} {HumanSize.Bytes(f.Size)}: {f.How} in {HumanSize.Duration(f.Elapsed)} ({HumanSize.Rate(f.BytesPerSecond)})");
                break;
            case RetryScheduled r:
                log.Information($"retrying ({r.Attempt}/{r.MaxAttempts}) in {HumanSize.Duration(r.Delay)}: {r.Registry}: {r.Operation}: {r.Reason}");
                break;
            case CopyStarted s:
                _lastProgress[s.Destination] = _clock.GetUtcNow();
                break;
            case CopyProgress p when p.BytesDone < p.TotalBytes:
                var now = _clock.GetUtcNow();
                var last = _lastProgress.GetOrAdd(p.Destination, now);
                if (now - last >= ProgressInterval && _lastProgress.TryUpdate(p.Destination, now, last))
                    log.Information($"{p.Destination}: {HumanSize.Bytes(p.BytesDone)} of {HumanSize.Bytes(p.TotalBytes)}, {HumanSize.Rate(p.BytesPerSecond)}");
                break;
            case CopyFinished f:
                _lastProgress.TryRemove(f.Destination, out _);
                break;
        }
    }

    /// <summary>Ignored: the transport never reports errors through the observer.</summary>
    public void OnError(Exception error) { }

    /// <summary>Ignored: nothing to flush.</summary>
    public void OnCompleted() { }
}
