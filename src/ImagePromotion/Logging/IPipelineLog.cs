namespace ImagePromotion.Logging;

/// <summary>
/// The module's only way to speak. Hosts (Cake scripts, the bench console, tests) decide where the
/// lines go; every line passes through the <see cref="SecretRedactor"/> first, and a host that writes to a CI
/// log passes it through <see cref="CommandSafeWriter"/> (or <see cref="LogText.Neutralise"/>) last, so text from
/// images, registries or evidence inside a message never acts as a workflow command.
/// </summary>
public interface IPipelineLog
{
    void Information(string message);
    void Verbose(string message);
    void Warning(string message);
}

/// <summary>Collects lines in memory; used by tests and by hosts that print at the end.</summary>
public sealed class MemoryLog : IPipelineLog
{
    private readonly List<string> _lines = new();
    private readonly object _gate = new();

    public IReadOnlyList<string> Lines { get { lock (_gate) return _lines.ToArray(); } }

    public void Information(string message) { lock (_gate) _lines.Add("info: " + message); }
    public void Verbose(string message) { lock (_gate) _lines.Add("verbose: " + message); }
    public void Warning(string message) { lock (_gate) _lines.Add("warning: " + message); }
}

/// <summary>Writes to the console through the redactor and <see cref="LogText.Neutralise"/>; the bench host and ad-hoc tools use it.</summary>
public sealed class ConsoleLog(bool verbose = false) : IPipelineLog
{
    public void Information(string message) => Console.WriteLine(Safe(message));
    public void Verbose(string message) { if (verbose) Console.WriteLine(Safe(message)); }
    public void Warning(string message) => Console.Error.WriteLine("warning: " + Safe(message));

    private static string Safe(string message) => LogText.Neutralise(SecretRedactor.Shared.Redact(message));
}
