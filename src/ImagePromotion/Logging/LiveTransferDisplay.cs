using ImagePromotion.Copy;
using ImagePromotion.Registry.Transport;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ImagePromotion.Logging;

/// <summary>
/// A live progress display for long copies on a terminal, drawn with Spectre.Console (the copy already in Cake's
/// process: the module compiles against 0.57.2 and ships none). It subscribes to <see cref="RegistryTransport.Events"/>:
/// a copy still moving bytes <see cref="ShowAfter"/> after it started gets a bar with
/// "120.0 MiB of 300.0 MiB, 15.0 MiB/s"; the display ends (and is cleared) when the last shown copy finishes. While it
/// shows, log lines must go through <see cref="TryWriteLine"/> so they print above it instead of through it. Every
/// description is escaped: a reference is never read as Spectre markup.
/// </summary>
public sealed class LiveTransferDisplay : IObserver<TransferEvent>, IDisposable
{
    /// <summary>How long a copy runs before it gets a bar: short copies stay quiet (their finish lines say enough).</summary>
    public static readonly TimeSpan ShowAfter = TimeSpan.FromSeconds(2);

    private readonly IAnsiConsole _console;
    private readonly TimeProvider _clock;
    private readonly object _gate = new();
    private readonly Dictionary<string, Copy> _copies = new(StringComparer.Ordinal);
    private ProgressContext? _context;
    private TaskCompletionSource? _done;
    private Task? _display;
    // The most recent display, ended or not: Dispose waits for its last frame.
    private Task? _last;

    /// <param name="console">Where to draw (Cake's <see cref="AnsiConsole.Console"/>, configured by <see cref="TerminalOutput.Configure"/>).</param>
    /// <param name="clock">Decides when a copy is long (tests pass a fake one).</param>
    public LiveTransferDisplay(IAnsiConsole console, TimeProvider? clock = null)
    {
        _console = console;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>A display on the process's Spectre console (in Cake's process, Cake's own).</summary>
    public static LiveTransferDisplay ForProcessConsole() => new(AnsiConsole.Console);

    /// <summary>True while the display is drawn.</summary>
    public bool Showing { get { lock (_gate) return _display is not null; } }

    /// <summary>Prints <paramref name="line"/> as plain text above the display and returns true while it shows; false otherwise (print it as usual).</summary>
    public bool TryWriteLine(string line)
    {
        lock (_gate)
        {
            if (_display is null) return false;
            _console.Write(new Text(line + "\n"));
            return true;
        }
    }

    /// <summary>Tracks copies and draws, updates or ends their bars (called on the copy's thread).</summary>
    public void OnNext(TransferEvent value)
    {
        lock (_gate)
        {
            switch (value)
            {
                case CopyStarted s when s.TotalBytes > 0:
                    _copies[s.Destination] = new Copy(s.Destination, s.TotalBytes, _clock.GetUtcNow());
                    break;
                case CopyProgress p when _copies.TryGetValue(p.Destination, out var copy):
                    copy.Done = p.BytesDone;
                    copy.Rate = p.BytesPerSecond;
                    if (copy.Task is { } task) task.Value = Math.Min(p.BytesDone, copy.Total);
                    else if (p.BytesDone < p.TotalBytes && _clock.GetUtcNow() - copy.Started >= ShowAfter) Show(copy);
                    break;
                case CopyFinished f when _copies.Remove(f.Destination, out var finished):
                    if (finished.Task is { } bar)
                    {
                        bar.Value = bar.MaxValue;
                        bar.StopTask();
                    }
                    if (_copies.Values.All(c => c.Task is null)) EndDisplay();
                    break;
            }
        }
    }

    /// <inheritdoc/>
    public void OnError(Exception error) { }

    /// <inheritdoc/>
    public void OnCompleted() { }

    /// <summary>Ends the display (if shown) and waits for its last frame, so nothing draws after the host's last line.</summary>
    public void Dispose()
    {
        Task? display;
        lock (_gate)
        {
            EndDisplay();
            display = _last;
        }
        try { display?.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { /* a display that failed to draw must not fail the run */ }
    }

    private void Show(Copy copy)
    {
        if (_display is null)
        {
            var started = new TaskCompletionSource<ProgressContext>(TaskCreationOptions.RunContinuationsAsynchronously);
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var done = _done.Task;
            var progress = new Progress(_console) { AutoClear = true, HideCompleted = true }
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferColumn());
            _display = _last = Task.Run(() => progress.StartAsync(async ctx =>
            {
                started.SetResult(ctx);
                await done.ConfigureAwait(false);
            }));
            // Spectre hands the context over once it holds the console; the copy waits that long, once.
            var mine = _done;
            ProgressContext? context;
            Monitor.Exit(_gate);
            try { context = started.Task.Wait(TimeSpan.FromSeconds(5)) ? started.Task.Result : null; }
            finally { Monitor.Enter(_gate); }
            if (!ReferenceEquals(mine, _done)) return; // ended meanwhile
            _context = context;
        }
        if (_context is null) return;
        copy.Task = _context.AddTask(Markup.Escape(LogText.Inline(copy.Destination)), maxValue: copy.Total);
        copy.Task.Tag = copy;
        copy.Task.Value = Math.Min(copy.Done, copy.Total);
        _context.Refresh(); // the bar appears now, not at the next tick
    }

    private void EndDisplay()
    {
        _done?.TrySetResult();
        _done = null;
        _display = null;
        _context = null;
    }

    private sealed class Copy(string destination, long total, DateTimeOffset started)
    {
        public string Destination { get; } = destination;
        public long Total { get; } = total;
        public DateTimeOffset Started { get; } = started;
        public long Done { get; set; }
        public double Rate { get; set; }
        public ProgressTask? Task { get; set; }
    }

    /// <summary>"120.0 MiB of 300.0 MiB, 15.0 MiB/s": binary units, as every other line of the run.</summary>
    private sealed class TransferColumn : ProgressColumn
    {
        /// <inheritdoc/>
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            var rate = task.Tag is Copy copy ? copy.Rate : task.Speed ?? 0;
            return new Text($"{HumanSize.Bytes((long)task.Value)} of {HumanSize.Bytes((long)task.MaxValue)}, {HumanSize.Rate(rate)}");
        }
    }
}
