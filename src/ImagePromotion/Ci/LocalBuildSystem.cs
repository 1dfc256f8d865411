using ImagePromotion.Logging;

namespace ImagePromotion.Ci;

/// <summary>
/// A developer's machine: identity from git (as the host read it) or the login name, outputs in a dotenv
/// file like CodeBuild's so a local run leaves the same traces, and a summary file.
/// </summary>
public sealed class LocalBuildSystem : IBuildSystem
{
    private readonly BuildSystemOptions _options;
    private readonly TextWriter _out;
    private readonly SecretRedactor _redactor;
    private readonly object _gate = new();

    public LocalBuildSystem(IReadOnlyDictionary<string, string?> environment, BuildSystemOptions? options = null)
    {
        _options = options ?? new BuildSystemOptions();
        _out = _options.Out;
        _redactor = _options.SecretRedactor;
        var env = new EnvironmentReader(environment);
        var name = Clean(_options.GitUserName) ?? env["USER"] ?? env["USERNAME"] ?? "unknown";
        Identity = new BuildIdentity(name, null, Clean(_options.GitUserEmail));
        Commit = Clean(_options.GitCommit);
        Branch = Clean(_options.GitBranch);
        OutputsPath = _options.Resolve(_options.ExportedVariablesFile);
        SummaryPath = _options.Resolve(_options.SummaryFile);
    }

    public string Name => "local";
    public BuildIdentity Identity { get; }
    public string? RunUrl => null;
    public string? Commit { get; }
    public string? Branch { get; }
    public string OutputsPath { get; }
    public string SummaryPath { get; }

    public void MaskSecret(string value) { }

    public void SetOutput(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var variable = CodeBuildBuildSystem.VariableName(name ?? string.Empty);
        if (variable.Length == 0 || !(char.IsAsciiLetter(variable[0]) || variable[0] == '_') || !variable.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new PromotionException($"output name '{name}' is invalid: start with a letter or '_' and use only letters, digits, '-' and '_'");
        if (value.Contains('\n') || value.Contains('\r'))
            throw new PromotionException($"output '{name}' has a line break: write multi-line data to a file and output its path");
        CiFiles.RefuseSecret(_redactor, value, $"output '{name}'");
        lock (_gate) CiFiles.Append(OutputsPath, $"{variable}={CodeBuildBuildSystem.ShellQuote(value)}\n");
    }

    public void AppendSummary(string markdown)
    {
        var text = _redactor.Redact(markdown);
        if (!text.EndsWith('\n')) text += "\n";
        lock (_gate) CiFiles.Append(SummaryPath, text);
    }

    public void BeginGroup(string name) => Write("== " + name);
    public void EndGroup() { }
    public void Warning(string message) => Write("warning: " + message);
    public void Error(string message) => Write("error: " + message);

    private void Write(string line)
    {
        lock (_gate)
        {
            _out.WriteLine(_redactor.Redact(line));
            _out.Flush();
        }
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public void Dispose() { }
}
