using System.Text;

namespace ImagePromotion.Logging;

/// <summary>
/// The one choke point in front of a CI log: a <see cref="TextWriter"/> that passes every physical line through
/// <see cref="LogText.NeutraliseLine"/> before it reaches the inner writer. A host installs it as the console's stdout
/// and stderr (<see cref="Install"/>), so every line of the process (our log, Cake's task headers and error lines, a
/// tool's output) is neutralised, while the GitHub Actions provider writes its own workflow commands to the raw stream it
/// was handed. A line is held until it ends (CR or LF, as the runner splits), so a command cannot be assembled from
/// fragments; <see cref="Flush"/> writes a held fragment only once it can no longer become a command.
/// </summary>
public sealed class CommandSafeWriter(TextWriter inner) : TextWriter
{
    private readonly StringBuilder _line = new();
    private readonly object _gate = new();
    // True after a fragment of the current line was already written: the rest of it cannot start a command any more.
    private bool _midLine;

    /// <summary>The inner writer's encoding.</summary>
    public override Encoding Encoding => inner.Encoding;

    /// <summary>
    /// Replaces the console's stdout and stderr with neutralising writers and returns the raw stdout, for the one writer
    /// allowed to emit workflow commands (the GitHub Actions provider). Installing twice does not wrap twice.
    /// </summary>
    public static TextWriter Install()
    {
        var stdout = Console.Out;
        if (stdout is CommandSafeWriter installed) return installed.Inner;
        Console.SetOut(new CommandSafeWriter(stdout) { AutoFlushLines = true });
        if (Console.Error is not CommandSafeWriter) Console.SetError(new CommandSafeWriter(Console.Error) { AutoFlushLines = true });
        return stdout;
    }

    /// <summary>The writer behind this one (raw: workflow commands written to it act).</summary>
    public TextWriter Inner => inner;

    /// <summary>Flush the inner writer after every line (a console should show lines as they come).</summary>
    public bool AutoFlushLines { get; init; }

    /// <inheritdoc/>
    public override void Write(char value)
    {
        lock (_gate)
        {
            if (value is '\n' or '\r')
            {
                EmitLine(value);
                return;
            }
            _line.Append(value);
        }
    }

    /// <inheritdoc/>
    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        lock (_gate) foreach (var c in value) Write(c);
    }

    /// <inheritdoc/>
    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate) for (var i = index; i < index + count; i++) Write(buffer[i]);
    }

    /// <inheritdoc/>
    public override void WriteLine(string? value)
    {
        lock (_gate)
        {
            Write(value);
            Write(CoreNewLine);
        }
    }

    /// <summary>Writes a held fragment only when it can no longer become a workflow command, then flushes the inner writer.</summary>
    public override void Flush()
    {
        lock (_gate)
        {
            // A held fragment is written once nothing appended later can make it a command.
            var text = _line.ToString();
            if (text.Length > 0 && !MayStillBecomeCommand(text))
            {
                inner.Write(_midLine ? text.Replace("##[", "## [", StringComparison.Ordinal) : LogText.NeutraliseLine(text));
                _line.Clear();
                _midLine = true;
            }
            inner.Flush();
        }
    }

    private bool MayStillBecomeCommand(string text)
    {
        if (text.EndsWith('#')) return true; // "#" or "##" may yet become "##["
        if (_midLine) return false;
        var trimmed = text.TrimStart();
        return trimmed.Length == 0 || trimmed == ":";
    }

    private void EmitLine(char end)
    {
        var text = _line.ToString();
        _line.Clear();
        inner.Write(_midLine ? text.Replace("##[", "## [", StringComparison.Ordinal) : LogText.NeutraliseLine(text));
        inner.Write(end);
        _midLine = false;
        if (AutoFlushLines && end == '\n') inner.Flush();
    }

    /// <summary>Flushes (see <see cref="Flush"/>) when <paramref name="disposing"/>; the inner writer is not disposed.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) Flush();
        base.Dispose(disposing);
    }
}
