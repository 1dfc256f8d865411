namespace ImagePromotion.Logging;

/// <summary>
/// The module's only way to speak. Hosts (Cake scripts, the bench console, tests) decide where the
/// lines go; every line passes through the <see cref="SecretRedactor"/> first, and a host that writes to a CI
/// log passes it through <see cref="CommandSafeWriter"/> (or <see cref="LogText.Neutralise"/>) last, so text from
/// images, registries or evidence inside a message never acts as a workflow command.
/// </summary>
public interface IPipelineLog
{
    /// <summary>A line shown at normal verbosity.</summary>
    void Information(string message);
    /// <summary>A line shown only at verbose (diagnostic) verbosity.</summary>
    void Verbose(string message);
    /// <summary>A line marked as a warning (a CI warning where the host has them); never used for a failure.</summary>
    void Warning(string message);
}

/// <summary>Collects lines in memory; used by tests and by hosts that print at the end.</summary>
public sealed class MemoryLog : IPipelineLog
{
    private readonly List<string> _lines = new();
    private readonly object _gate = new();

    /// <summary>Every line so far, prefixed <c>info: </c>, <c>verbose: </c> or <c>warning: </c>, in order.</summary>
    public IReadOnlyList<string> Lines { get { lock (_gate) return _lines.ToArray(); } }

    /// <summary>Adds <c>info: message</c>.</summary>
    public void Information(string message) { lock (_gate) _lines.Add("info: " + message); }
    /// <summary>Adds <c>verbose: message</c>.</summary>
    public void Verbose(string message) { lock (_gate) _lines.Add("verbose: " + message); }
    /// <summary>Adds <c>warning: message</c>.</summary>
    public void Warning(string message) { lock (_gate) _lines.Add("warning: " + message); }
}

/// <summary>Writes to the console through the redactor and <see cref="LogText.Neutralise"/>; the bench host and ad-hoc tools use it.</summary>
public sealed class ConsoleLog(bool verbose = false) : IPipelineLog
{
    /// <summary>Writes the line to stdout.</summary>
    public void Information(string message) => Console.WriteLine(Safe(message));
    /// <summary>Writes the line to stdout when the log is verbose.</summary>
    public void Verbose(string message) { if (verbose) Console.WriteLine(Safe(message)); }
    /// <summary>Writes <c>warning: message</c> to stderr.</summary>
    public void Warning(string message) => Console.Error.WriteLine("warning: " + Safe(message));

    private static string Safe(string message) => LogText.Neutralise(SecretRedactor.Shared.Redact(message));
}
