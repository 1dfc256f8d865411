using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>
/// What a GitHub Actions step hands back besides its exit code: the files named by GITHUB_OUTPUT and GITHUB_ENV
/// (<c>name=value</c> lines or the <c>name&lt;&lt;DELIMITER</c> multi-line form), and workflow commands on stdout
/// (<c>::add-mask::</c>, groups, annotations). The runner's forms (docs.github.com, "Workflow commands for GitHub
/// Actions"); the commands GitHub disabled (<c>set-output</c>, <c>set-env</c>, <c>add-path</c>, <c>save-state</c>)
/// and any other <c>::</c> line fail the step here, so text from a registry or a manifest that reaches the log as a
/// command is caught.
/// </summary>
internal static partial class StepFiles
{
    public static Dictionary<string, string> ReadKeyValues(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path)) return values;
        var lines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0) continue;
            var eq = line.IndexOf('=');
            var heredoc = line.IndexOf("<<", StringComparison.Ordinal);
            if (eq > 0 && (heredoc < 0 || eq < heredoc))
            {
                values[line[..eq]] = line[(eq + 1)..];
                continue;
            }
            if (heredoc <= 0) throw new RunnerException($"{Path.GetFileName(path)}: line '{line}' is neither name=value nor name<<DELIMITER");
            var name = line[..heredoc];
            var delimiter = line[(heredoc + 2)..];
            var body = new List<string>();
            for (i++; ; i++)
            {
                if (i >= lines.Length) throw new RunnerException($"{Path.GetFileName(path)}: '{name}' has no closing delimiter {delimiter}");
                if (lines[i] == delimiter) break;
                body.Add(lines[i]);
            }
            values[name] = string.Join('\n', body);
        }
        return values;
    }

    /// <summary>A workflow command on one stdout line, or null for an ordinary line.</summary>
    public static (string Command, string Properties, string Data)? ParseCommand(string line)
    {
        var match = CommandLine().Match(line);
        return match.Success ? (match.Groups[1].Value, match.Groups[2].Value.Trim(), Unescape(match.Groups[3].Value)) : null;
    }

    public static readonly HashSet<string> SupportedCommands = ["add-mask", "group", "endgroup", "error", "warning", "notice", "debug"];

    private static string Unescape(string data) => data.Replace("%0D", "\r").Replace("%0A", "\n").Replace("%25", "%");

    // The runner reads a command anywhere its line starts with "::" after leading blanks.
    [GeneratedRegex(@"^\s*::([A-Za-z][A-Za-z0-9-]*)((?: [^:]*)?)::(.*)$")]
    private static partial Regex CommandLine();
}
