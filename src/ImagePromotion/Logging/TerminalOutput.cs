using Spectre.Console;

namespace ImagePromotion.Logging;

/// <summary>
/// What the process's output may contain, decided once from where it goes: escape codes (colour, cursor moves) only
/// on a terminal and only when <c>NO_COLOR</c> is unset (https://no-color.org), whatever <c>TERM</c> says; a live
/// progress display only on such a terminal outside CI. Cake decides ANSI by <c>TERM</c> alone (its AnsiDetector and
/// Spectre's both match <c>^xterm</c> without asking whether stdout is a terminal), so a piped log got raw escapes:
/// the host strips them at its one output choke point (<see cref="CommandSafeWriter"/>) and turns Spectre's off.
/// </summary>
/// <param name="Escapes">True: the output is a terminal that may get escape codes.</param>
/// <param name="LiveDisplay">True: a live progress display may redraw lines (a terminal, not a CI job).</param>
public sealed record TerminalOutput(bool Escapes, bool LiveDisplay)
{
    /// <summary>The variables that mark a CI job: its log is a file even when a pseudo-terminal is attached.</summary>
    private static readonly string[] CiVariables = ["CI", "GITHUB_ACTIONS", "CODEBUILD_BUILD_ID", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "TEAMCITY_VERSION"];

    /// <summary>Decides from the environment and whether stdout is redirected (to a file or pipe).</summary>
    public static TerminalOutput Detect(IReadOnlyDictionary<string, string?> environment, bool outputRedirected)
    {
        string? Get(string name) => environment.GetValueOrDefault(name) is { Length: > 0 } v ? v : null;
        var escapes = !outputRedirected && Get("NO_COLOR") is null && Get("TERM") is not "dumb";
        return new TerminalOutput(escapes, escapes && !CiVariables.Any(v => Get(v) is not null));
    }

    /// <summary>This process: its environment and <see cref="Console.IsOutputRedirected"/>.</summary>
    public static TerminalOutput Current() =>
        Detect(Registry.Auth.CredentialStore.ReadProcessEnvironment(), Console.IsOutputRedirected);

    /// <summary>Configures the process's Spectre console (<see cref="AnsiConsole.Console"/>, the one Cake prints its banners and report with).</summary>
    public void ConfigureProcessConsole() => Configure(AnsiConsole.Console);

    /// <summary>
    /// Sends whatever the process's Spectre console prints from now on nowhere: a host calls it last, so Cake's task
    /// table after a run stays out of normal output.
    /// </summary>
    public static void MuteProcessConsole() => AnsiConsole.Console.Profile.Out = new AnsiConsoleOutput(TextWriter.Null);

    /// <summary>
    /// Points a Spectre console (Cake's own, <see cref="AnsiConsole.Console"/>) at the process's current stdout (the
    /// neutralising writer, once installed) and gives it these capabilities: no ANSI, no colours, not interactive
    /// when escapes are not allowed.
    /// </summary>
    public void Configure(IAnsiConsole console)
    {
        console.Profile.Out = new AnsiConsoleOutput(Console.Out);
        var caps = console.Profile.Capabilities;
        caps.Interactive = LiveDisplay;
        if (Escapes) return;
        caps.Ansi = false;
        caps.Links = false;
        caps.ColorSystem = ColorSystem.NoColors;
    }
}
