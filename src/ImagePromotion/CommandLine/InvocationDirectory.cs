namespace ImagePromotion.CommandLine;

/// <summary>
/// The directory the user ran <c>./build.sh</c> from: command-line paths are relative to it, as with any other
/// tool. Cake changes its working directory to the script's folder before the script runs, so the launcher
/// passes it in <see cref="Variable"/> (build.sh and build.ps1 set it before they change directory).
/// </summary>
public static class InvocationDirectory
{
    /// <summary>The environment variable the launchers set to the directory they were started from.</summary>
    public const string Variable = "PROMOTION_INVOCATION_DIR";

    /// <summary>
    /// <see cref="Variable"/>; else <c>PWD</c>, which a shell keeps as its working directory when Cake is started
    /// from it directly (<c>dotnet cake</c> in an adopting repository); else <paramref name="fallback"/>.
    /// Only an absolute path to an existing directory counts.
    /// </summary>
    public static string Find(IReadOnlyDictionary<string, string?> environment, string fallback)
    {
        foreach (var name in new[] { Variable, "PWD" })
            if (environment.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) && Path.IsPathRooted(value) && Directory.Exists(value))
                return Path.GetFullPath(value);
        return Path.GetFullPath(fallback);
    }

    /// <summary>An absolute path for <paramref name="path"/> given on the command line, relative to <paramref name="directory"/>.</summary>
    public static string Resolve(string directory, string path) => Path.GetFullPath(Path.Combine(directory, path));
}
