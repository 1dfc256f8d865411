using System.Text;
using System.Text.RegularExpressions;
using ImagePromotion.Logging;

namespace ImagePromotion.Ci;

/// <summary>
/// AWS CodeBuild. CodeBuild exports the variables named in the buildspec's <c>env.exported-variables</c>
/// from its own shell, which a child process (this one) cannot change. So outputs go to a dotenv-style
/// file that the buildspec sources at the end of its build phase (see <c>deploy/aws/buildspec-*.yml</c>).
/// </summary>
public sealed partial class CodeBuildBuildSystem : IBuildSystem
{
    public const string DefaultExportedVariablesFile = ".artifacts/exported-variables.env";

    private readonly BuildSystemOptions _options;
    private readonly TextWriter _out;
    private readonly SecretRedactor _redactor;
    private readonly object _gate = new();

    public CodeBuildBuildSystem(IReadOnlyDictionary<string, string?> environment, BuildSystemOptions? options = null)
    {
        _options = options ?? new BuildSystemOptions();
        _out = _options.Out;
        _redactor = _options.SecretRedactor;
        var env = new EnvironmentReader(environment);

        // e.g. "codepipeline/release-pipeline", an IAM user name, or "role/session" for an assumed role.
        Identity = new BuildIdentity(env["CODEBUILD_INITIATOR"] ?? "unknown");
        RunUrl = env["CODEBUILD_BUILD_URL"];
        Commit = env["CODEBUILD_RESOLVED_SOURCE_VERSION"];
        Branch = BranchFrom(env["CODEBUILD_WEBHOOK_HEAD_REF"]) ?? BranchFrom(env["CODEBUILD_SOURCE_VERSION"]);
        ExportedVariablesPath = _options.Resolve(_options.ExportedVariablesFile);
        SummaryPath = _options.Resolve(_options.SummaryFile);
    }

    public string Name => "AWS CodeBuild";
    public BuildIdentity Identity { get; }
    public string? RunUrl { get; }
    public string? Commit { get; }
    public string? Branch { get; }

    /// <summary>The dotenv file the buildspec sources so that exported-variables can see the values.</summary>
    public string ExportedVariablesPath { get; }
    public string SummaryPath { get; }

    /// <summary>The variable name an output becomes: <c>image-digest</c> is exported as <c>IMAGE_DIGEST</c>.</summary>
    public static string VariableName(string outputName) => outputName.Replace('-', '_').ToUpperInvariant();

    /// <summary>CodeBuild's log has no masking; secrets are kept out by the redactor instead.</summary>
    public void MaskSecret(string value) { }

    public void SetOutput(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var variable = VariableName(name ?? string.Empty);
        if (!VariableShape().IsMatch(variable))
            throw new PromotionException($"output name '{name}' cannot be a CodeBuild exported variable: start with a letter or '_' and use only letters, digits, '-' and '_'");
        if (value.Contains('\n') || value.Contains('\r') || value.Contains('\0'))
            throw new PromotionException($"output '{name}' has a line break, which CodeBuild exported variables cannot carry: write multi-line data to an artifact file and export its path");
        CiFiles.RefuseSecret(_redactor, value, $"exported variable '{variable}'");
        lock (_gate) CiFiles.Append(ExportedVariablesPath, $"{variable}={ShellQuote(value)}\n");
    }

    public void AppendSummary(string markdown)
    {
        var text = _redactor.Redact(markdown);
        if (!text.EndsWith('\n')) text += "\n";
        lock (_gate) CiFiles.Append(SummaryPath, text);
    }

    // CodeBuild's console has no folding; a marked line keeps sections findable in the log.
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

    /// <summary>
    /// The file is sourced by a shell: plain values stay bare (readable, still valid dotenv), anything else
    /// is single-quoted so that no value can run a command.
    /// </summary>
    internal static string ShellQuote(string value) =>
        SafeValue().IsMatch(value) ? value : "'" + value.Replace("'", "'\\''") + "'";

    private static string? BranchFrom(string? reference)
    {
        if (reference is null) return null;
        if (reference.StartsWith("refs/heads/", StringComparison.Ordinal)) return reference["refs/heads/".Length..];
        // A source version may be a commit id, a tag ref or "pr/42": none of those is a branch.
        if (reference.StartsWith("refs/", StringComparison.Ordinal) || reference.StartsWith("pr/", StringComparison.Ordinal)) return null;
        if (CommitShape().IsMatch(reference)) return null;
        return reference;
    }

    public void Dispose() { }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableShape();

    [GeneratedRegex("^[A-Za-z0-9_./:@%+,=-]*$")]
    private static partial Regex SafeValue();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitShape();
}
