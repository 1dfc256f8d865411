using System.Text.RegularExpressions;
using ImagePromotion.Logging;

namespace ImagePromotion.Ci;

/// <summary>
/// What CodeBuild and a developer's machine share: outputs as <c>KEY=value</c> lines in a dotenv file
/// (CodeBuild's buildspec sources it; locally it leaves the same trace), a Markdown summary file, and
/// plain marked lines for groups and annotations, all through the redactor.
/// </summary>
public abstract partial class DotenvBuildSystem : IBuildSystem
{
    private readonly TextWriter _out;
    private readonly SecretRedactor _redactor;
    private readonly object _gate = new();

    /// <summary>Resolves the outputs and summary files against the options' working directory.</summary>
    /// <param name="options">Writer, redactor, working directory and file locations.</param>
    protected DotenvBuildSystem(BuildSystemOptions options)
    {
        _out = options.Out;
        _redactor = options.SecretRedactor;
        OutputsPath = options.Resolve(options.ExportedVariablesFile);
        SummaryPath = options.Resolve(options.SummaryFile);
    }

    /// <inheritdoc/>
    public abstract string Name { get; }
    /// <inheritdoc/>
    public abstract BuildIdentity Identity { get; }
    /// <inheritdoc/>
    public abstract string? RunUrl { get; }
    /// <inheritdoc/>
    public abstract string? Commit { get; }
    /// <inheritdoc/>
    public abstract string? Branch { get; }

    /// <summary>The dotenv file outputs are written to.</summary>
    public string OutputsPath { get; }
    /// <summary>The Markdown summary file appended to (default <c>.artifacts/summary.md</c>).</summary>
    public string SummaryPath { get; }

    /// <summary>The variable name an output becomes: <c>image-digest</c> is exported as <c>IMAGE_DIGEST</c>.</summary>
    public static string VariableName(string outputName) => outputName.Replace('-', '_').ToUpperInvariant();

    /// <summary>Neither a local console nor CodeBuild's log can mask; secrets are kept out by the redactor instead.</summary>
    public void MaskSecret(string value) { }

    /// <summary>Appends <c>NAME=value</c> to <see cref="OutputsPath"/>, the name from <see cref="VariableName"/> and the value shell-quoted unless plain.</summary>
    /// <exception cref="PromotionException">The name cannot be a shell variable, the value has a line break, or the value is a known secret.</exception>
    public void SetOutput(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var variable = VariableName(name ?? string.Empty);
        if (!VariableShape().IsMatch(variable))
            throw new PromotionException($"output name '{name}' cannot be an exported variable: start with a letter or '_' and use only letters, digits, '-' and '_'");
        if (value.Contains('\n') || value.Contains('\r') || value.Contains('\0'))
            throw new PromotionException($"output '{name}' has a line break, which exported variables cannot carry: write multi-line data to an artifact file and export its path");
        CiFiles.RefuseSecret(_redactor, value, $"exported variable '{variable}'");
        lock (_gate) CiFiles.Append(OutputsPath, $"{variable}={ShellQuote(value)}\n");
    }

    /// <summary>Appends redacted Markdown to <see cref="SummaryPath"/>, ending it with a newline.</summary>
    public void AppendSummary(string markdown)
    {
        var text = _redactor.Redact(markdown);
        if (!text.EndsWith('\n')) text += "\n";
        lock (_gate) CiFiles.Append(SummaryPath, text);
    }

    // Neither console folds sections; a marked line keeps them findable in the log.
    /// <summary>Writes a <c>== name</c> line to mark the start of a section.</summary>
    public void BeginGroup(string name) => Write("== " + name);
    /// <summary>Does nothing: a plain log has no section to close.</summary>
    public void EndGroup() { }
    /// <summary>Writes a redacted <c>warning: message</c> line.</summary>
    public void Warning(string message) => Write("warning: " + message);
    /// <summary>Writes a redacted <c>error: message</c> line.</summary>
    public void Error(string message) => Write("error: " + message);

    private void Write(string line)
    {
        lock (_gate)
        {
            _out.WriteLine(_redactor.Redact(line));
            _out.Flush();
        }
    }

    /// <summary>
    /// The file is sourced by a shell: plain values stay bare (readable, still valid dotenv), anything else
    /// is single-quoted so that no value can run a command.
    /// </summary>
    internal static string ShellQuote(string value) =>
        SafeValue().IsMatch(value) ? value : "'" + value.Replace("'", "'\\''") + "'";

    /// <summary>Null for a missing or blank value, otherwise the value trimmed.</summary>
    protected static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Does nothing: the files are appended and closed on every write.</summary>
    public virtual void Dispose() { }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableShape();

    [GeneratedRegex("^[A-Za-z0-9_./:@%+,=-]*$")]
    private static partial Regex SafeValue();
}
