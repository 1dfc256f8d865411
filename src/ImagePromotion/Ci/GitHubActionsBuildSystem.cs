using System.Text;
using System.Text.RegularExpressions;
using ImagePromotion.Logging;

namespace ImagePromotion.Ci;

/// <summary>
/// GitHub Actions: workflow commands on stdout, step outputs in the file named by GITHUB_OUTPUT and
/// the job summary in the file named by GITHUB_STEP_SUMMARY (the runner reads both after the step).
/// </summary>
public sealed partial class GitHubActionsBuildSystem : IBuildSystem
{
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly BuildSystemOptions _options;
    private readonly TextWriter _out;
    private readonly SecretRedactor _redactor;
    private readonly object _gate = new();
    private bool _disposed;

    /// <summary>Reads the run's identity from GitHub's default variables (<c>GITHUB_ACTOR</c>, <c>GITHUB_TRIGGERING_ACTOR</c>, <c>GITHUB_SERVER_URL</c>/<c>GITHUB_REPOSITORY</c>/<c>GITHUB_RUN_ID</c>, <c>GITHUB_SHA</c>, <c>GITHUB_REF_NAME</c>) and masks every secret the redactor learns from now on.</summary>
    /// <param name="environment">The process environment.</param>
    /// <param name="options">Writer and redactor; defaults when null.</param>
    public GitHubActionsBuildSystem(IReadOnlyDictionary<string, string?> environment, BuildSystemOptions? options = null)
    {
        _environment = environment;
        _options = options ?? new BuildSystemOptions();
        _out = _options.Out;
        _redactor = _options.SecretRedactor;
        var env = new EnvironmentReader(environment);

        Identity = new BuildIdentity(env["GITHUB_ACTOR"] ?? "unknown", env["GITHUB_TRIGGERING_ACTOR"]);
        var server = (env["GITHUB_SERVER_URL"] ?? "https://github.com").TrimEnd('/');
        RunUrl = env["GITHUB_REPOSITORY"] is { } repo && env["GITHUB_RUN_ID"] is { } runId
            ? $"{server}/{repo}/actions/runs/{runId}"
            : null;
        Commit = env["GITHUB_SHA"];
        Branch = env["GITHUB_REF_NAME"];

        // Every secret learned from now on is masked in the job log, which GitHub only does for
        // values it was told about: secrets read from files or exchanged tokens are not in `secrets.*`.
        _redactor.SecretAdded += MaskSecret;
    }

    /// <inheritdoc/>
    public string Name => "GitHub Actions";
    /// <inheritdoc/>
    public BuildIdentity Identity { get; }
    /// <inheritdoc/>
    public string? RunUrl { get; }
    /// <inheritdoc/>
    public string? Commit { get; }
    /// <inheritdoc/>
    public string? Branch { get; }

    /// <summary>Writes <c>::add-mask::</c> for each non-empty line of <paramref name="value"/> (the runner masks line by line); nothing after <see cref="Dispose"/>.</summary>
    public void MaskSecret(string value)
    {
        if (string.IsNullOrEmpty(value)) return;
        lock (_gate)
        {
            if (_disposed) return;
            // The runner masks per line; a multi-line secret (a PEM key) needs each line registered.
            foreach (var line in value.Split('\n'))
            {
                var trimmed = line.TrimEnd('\r');
                if (trimmed.Length == 0) continue;
                // The one place a secret is written: GitHub needs the value itself to mask it.
                _out.WriteLine("::add-mask::" + EscapeData(trimmed));
            }
            _out.Flush();
        }
    }

    /// <summary>Appends the output to the <c>GITHUB_OUTPUT</c> file, in the <c>name&lt;&lt;delimiter</c> form with a random delimiter when the value has line breaks.</summary>
    /// <exception cref="PromotionException">The name is not a valid output name, the value is a known secret, or <c>GITHUB_OUTPUT</c> is not set.</exception>
    public void SetOutput(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!OutputName().IsMatch(name ?? string.Empty))
            throw new PromotionException($"step output name '{name}' is invalid: start with a letter or '_' and use only letters, digits, '-' and '_'");
        CiFiles.RefuseSecret(_redactor, value, $"step output '{name}'");
        var path = RequireFile("GITHUB_OUTPUT", "SetOutput");
        string entry;
        if (value.Contains('\n') || value.Contains('\r'))
        {
            // GitHub's multi-line form; a random delimiter cannot occur in the value by accident.
            var delimiter = "ghadelimiter_" + Guid.NewGuid().ToString("N");
            entry = $"{name}<<{delimiter}\n{value}\n{delimiter}\n";
        }
        else
        {
            entry = $"{name}={value}\n";
        }
        lock (_gate) CiFiles.Append(path, entry);
    }

    /// <summary>Appends redacted Markdown to the <c>GITHUB_STEP_SUMMARY</c> file, ending it with a newline.</summary>
    /// <exception cref="PromotionException"><c>GITHUB_STEP_SUMMARY</c> is not set.</exception>
    public void AppendSummary(string markdown)
    {
        var path = RequireFile("GITHUB_STEP_SUMMARY", "AppendSummary");
        var text = _redactor.Redact(markdown);
        if (!text.EndsWith('\n')) text += "\n";
        lock (_gate) CiFiles.Append(path, text);
    }

    /// <summary>Writes <c>::group::name</c>: the log folds what follows until <see cref="EndGroup"/>.</summary>
    public void BeginGroup(string name) => Command("group", null, name);
    /// <summary>Writes <c>::endgroup::</c>.</summary>
    public void EndGroup() => Command("endgroup", null, string.Empty);

    /// <summary>Writes a <c>::warning::</c> annotation (redacted, escaped as the runner unescapes).</summary>
    public void Warning(string message) => Annotation("warning", message, null);
    /// <summary>Writes an <c>::error::</c> annotation (redacted, escaped as the runner unescapes).</summary>
    public void Error(string message) => Annotation("error", message, null);

    /// <summary>An annotation with a title, shown on the run's summary page.</summary>
    public void Annotation(string level, string message, string? title)
    {
        if (level is not ("notice" or "warning" or "error"))
            throw new ArgumentOutOfRangeException(nameof(level), level, "use notice, warning or error");
        Command(level, title is null ? null : "title=" + EscapeProperty(_redactor.Redact(title)), message);
    }

    private void Command(string command, string? properties, string message)
    {
        var line = "::" + command + (properties is null ? "" : " " + properties) + "::" + EscapeData(_redactor.Redact(message));
        lock (_gate)
        {
            _out.WriteLine(line);
            _out.Flush();
        }
    }

    private string RequireFile(string variable, string operation)
    {
        var env = new EnvironmentReader(_environment);
        return env[variable] ?? throw new PromotionException(
            $"{variable} is not set, so {operation} has nowhere to write: run inside a GitHub Actions step (runner 2.297 or later sets it)");
    }

    // Escaping as the runner unescapes (actions/toolkit command.ts): data and property values.
    internal static string EscapeData(string value) =>
        value.Replace("%", "%25").Replace("\r", "%0D").Replace("\n", "%0A");

    internal static string EscapeProperty(string value) =>
        EscapeData(value).Replace(":", "%3A").Replace(",", "%2C");

    /// <summary>Stops masking the redactor's new secrets; later <see cref="MaskSecret"/> calls write nothing.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _redactor.SecretAdded -= MaskSecret;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$")]
    private static partial Regex OutputName();
}

internal static class CiFiles
{
    public static void Append(string path, string text)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        File.AppendAllText(path, text, new UTF8Encoding(false));
    }

    /// <summary>Outputs outlive the run's log masking (files, later phases), so a secret never goes in one.</summary>
    public static void RefuseSecret(SecretRedactor redactor, string value, string what)
    {
        if (!string.Equals(redactor.Redact(value), value, StringComparison.Ordinal))
            throw new PromotionException($"{what} would contain a registered secret: pass secrets to later steps through the CI system's secret store, not as outputs");
    }
}
