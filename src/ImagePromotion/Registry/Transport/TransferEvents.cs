namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Something a host may show while a copy runs. Sizes are bytes, rates bytes per second, times wall clock.
/// <see cref="Copy"/> names the copy an event belongs to (its destination reference), so a host can group the
/// events of a release train that runs several copies at once on one transport; null outside a copy.
/// </summary>
public abstract record TransferEvent
{
    /// <summary>The destination reference of the copy that raised the event; null outside a copy.</summary>
    public string? Copy { get; init; }
}

/// <summary>A copy starts moving blobs: <paramref name="Blobs"/> to stream, <paramref name="TotalBytes"/> in all.</summary>
public sealed record CopyStarted(string Source, string Destination, int Blobs, long TotalBytes) : TransferEvent;

/// <summary>All of a copy's blob bytes so far (at most every 250 ms per blob, and at every blob's end).</summary>
public sealed record CopyProgress(string Destination, long BytesDone, long TotalBytes, double BytesPerSecond) : TransferEvent;

/// <summary>A copy ended, written or failed (<paramref name="Failure"/> is its one-line reason).</summary>
public sealed record CopyFinished(string Destination, long BytesUploaded, TimeSpan Elapsed, string? Failure) : TransferEvent;

/// <summary>One blob starts streaming from the source into the destination (each attempt of a retried blob raises it again).</summary>
public sealed record BlobStarted(string Registry, string Repository, Digest Digest, long Size, int Attempt) : TransferEvent;

/// <summary>Bytes of one blob sent so far, at most every 250 ms.</summary>
public sealed record BlobProgress(Digest Digest, long BytesDone, long Size, double BytesPerSecond) : TransferEvent;

/// <summary>One blob is in the destination; <paramref name="How"/> is <c>uploaded</c>, <c>uploaded in chunks</c> or <c>mounted</c>.</summary>
public sealed record BlobFinished(string Registry, string Repository, Digest Digest, long Size, TimeSpan Elapsed, double BytesPerSecond, string How) : TransferEvent;

/// <summary>
/// A request (or a whole blob transfer) failed and is tried again after <paramref name="Delay"/>:
/// attempt <paramref name="Attempt"/> of <paramref name="MaxAttempts"/> comes next. <paramref name="Reason"/>
/// is one line (e.g. "429 TOOMANYREQUESTS, Retry-After 3 s" or "no answer within 120 s").
/// </summary>
public sealed record RetryScheduled(string Registry, string Operation, int Attempt, int MaxAttempts, TimeSpan Delay, string Reason) : TransferEvent;

/// <summary>
/// The events of one transport, as an <see cref="IObservable{T}"/>: a host subscribes an observer (a live
/// progress display, a log writer) and disposes the subscription to stop. Observers are called on the
/// thread that raised the event, so they must be quick and thread-safe; an observer that throws is dropped
/// from that event's delivery, never from the copy.
/// </summary>
public sealed class TransferEvents : IObservable<TransferEvent>
{
    // The copy whose events this async flow raises (set by the copier, flows into everything it awaits).
    private static readonly AsyncLocal<string?> CurrentCopy = new();
    private readonly object _gate = new();
    private IObserver<TransferEvent>[] _observers = [];

    /// <summary>Adds an observer; dispose the returned subscription to remove it.</summary>
    public IDisposable Subscribe(IObserver<TransferEvent> observer)
    {
        lock (_gate) _observers = [.. _observers, observer];
        return new Subscription(this, observer);
    }

    /// <summary>True when some observer listens: raising events that no one reads costs nothing then.</summary>
    public bool HasObservers => Volatile.Read(ref _observers).Length > 0;

    /// <summary>Observers of a given type, so a log writer attaches once per transport and log.</summary>
    public bool Has(Func<IObserver<TransferEvent>, bool> match) => Volatile.Read(ref _observers).Any(match);

    /// <summary>Names the copy of the calling async flow; events raised inside it carry the name.</summary>
    public static void BeginCopy(string destination) => CurrentCopy.Value = destination;

    /// <summary>Delivers <paramref name="e"/> to every observer, tagged with the current copy; an observer that throws is skipped.</summary>
    public void Publish(TransferEvent e)
    {
        var observers = Volatile.Read(ref _observers);
        if (observers.Length == 0) return;
        if (e.Copy is null && CurrentCopy.Value is { } copy) e = e with { Copy = copy };
        foreach (var o in observers)
        {
            try { o.OnNext(e); }
            catch (Exception) { /* a broken display must not break a promotion */ }
        }
    }

    private void Remove(IObserver<TransferEvent> observer)
    {
        lock (_gate) _observers = _observers.Where(o => !ReferenceEquals(o, observer)).ToArray();
    }

    private sealed class Subscription(TransferEvents owner, IObserver<TransferEvent> observer) : IDisposable
    {
        public void Dispose() => owner.Remove(observer);
    }
}
