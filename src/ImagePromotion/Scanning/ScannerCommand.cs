namespace ImagePromotion.Scanning;

/// <summary>
/// How to run an external scanner: an executable and its arguments, where <c>{image}</c> stands for
/// <c>registry/repository@digest</c>. Credentials go through the named environment variables, never argv,
/// because argv is visible to every user of the machine (<c>ps</c>, /proc). <see cref="PlainHttpVariable"/> is set
/// to <c>true</c> for a loopback registry, which serves plain HTTP (as Docker allows for loopback only).
/// </summary>
public sealed record ScannerCommand(
    string Name,
    string Executable,
    IReadOnlyList<string> Arguments,
    string? UsernameVariable = null,
    string? PasswordVariable = null,
    string? RegistryVariable = null,
    string? PlainHttpVariable = null)
{
    /// <summary>Stands for <c>registry/repository@digest</c> in <see cref="ScannerCommand.Arguments"/>.</summary>
    public const string ImagePlaceholder = "{image}";

    /// <summary><c>trivy image --format json --quiet &lt;ref@digest&gt;</c>; Trivy reads TRIVY_USERNAME/TRIVY_PASSWORD.</summary>
    public static ScannerCommand Trivy { get; } = new(
        "trivy", "trivy", ["image", "--format", "json", "--quiet", ImagePlaceholder], "TRIVY_USERNAME", "TRIVY_PASSWORD", PlainHttpVariable: "TRIVY_INSECURE");

    /// <summary>
    /// <c>grype registry:&lt;ref@digest&gt; --output json --quiet</c>: the registry: scheme pulls straight from the
    /// registry instead of asking a Docker daemon. Grype scopes its credentials with GRYPE_REGISTRY_AUTH_AUTHORITY.
    /// </summary>
    public static ScannerCommand Grype { get; } = new(
        "grype", "grype", ["registry:" + ImagePlaceholder, "--output", "json", "--quiet"],
        "GRYPE_REGISTRY_AUTH_USERNAME", "GRYPE_REGISTRY_AUTH_PASSWORD", "GRYPE_REGISTRY_AUTH_AUTHORITY", "GRYPE_REGISTRY_INSECURE_USE_HTTP");

    /// <summary>The scanners a run with no scanner configuration tries, in this order.</summary>
    public static IReadOnlyList<ScannerCommand> Known { get; } = [Trivy, Grype];

    /// <summary>The known scanner named <paramref name="name"/> (any case); null for none.</summary>
    public static ScannerCommand? FindKnown(string name) =>
        Known.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary><c>name (executable arguments…)</c>.</summary>
    public override string ToString() => Name + " (" + Executable + " " + string.Join(' ', Arguments) + ")";
}

/// <summary>Registry credentials a scanner needs to pull the image. The password is never printed.</summary>
public sealed record ScannerCredentials
{
    /// <summary>The registry user name.</summary>
    public string Username { get; }
    /// <summary>The registry password; registered with the redactor.</summary>
    public string Password { get; }

    /// <summary>Credentials for a scanner; <paramref name="password"/> is registered with the redactor at once.</summary>
    public ScannerCredentials(string username, string password)
    {
        Username = username;
        Password = password;
        Logging.SecretRedactor.Shared.Add(password);
    }

    /// <summary>Prints the user name, the password as <c>***</c>.</summary>
    public override string ToString() => $"ScannerCredentials {{ Username = {Username}, Password = *** }}";
}

/// <summary>A scanner that was not run, and why (not installed, layer format not supported, …).</summary>
public sealed record SkippedScanner(string Name, string Reason);

/// <summary>Which known scanners are on PATH, so a run without configuration can use those and name the rest.</summary>
public sealed record ScannerAvailability(IReadOnlyList<ScannerCommand> Installed, IReadOnlyList<SkippedScanner> Skipped)
{
    /// <param name="pathVariable">The PATH to search; null means this process's PATH.</param>
    public static ScannerAvailability Detect(string? pathVariable = null)
    {
        var installed = new List<ScannerCommand>();
        var skipped = new List<SkippedScanner>();
        foreach (var scanner in ScannerCommand.Known)
        {
            if (ExecutableLocator.Find(scanner.Executable, pathVariable) is not null) installed.Add(scanner);
            else skipped.Add(new SkippedScanner(scanner.Name, $"not installed ('{scanner.Executable}' not found on PATH)"));
        }
        return new ScannerAvailability(installed, skipped);
    }
}

/// <summary>Resolves an executable the way a shell does, so "not installed" can be said before trying to start it.</summary>
public static class ExecutableLocator
{
    /// <summary>The full path of <paramref name="executable"/> found on <paramref name="pathVariable"/> (this process's PATH when null, PATHEXT on Windows); a path with a slash is checked as given. Null when not found or not executable.</summary>
    public static string? Find(string executable, string? pathVariable = null)
    {
        if (string.IsNullOrWhiteSpace(executable)) return null;
        if (executable.Contains('/') || executable.Contains(Path.DirectorySeparatorChar))
            return IsExecutable(executable) ? Path.GetFullPath(executable) : null;

        var path = pathVariable ?? Environment.GetEnvironmentVariable("PATH") ?? "";
        var extensions = OperatingSystem.IsWindows()
            ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".EXE;.CMD;.BAT").Split(';', StringSplitOptions.RemoveEmptyEntries).Prepend("")
            : [""];
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var extension in extensions)
            {
                var candidate = Path.Combine(directory, executable + extension);
                if (IsExecutable(candidate)) return candidate;
            }
        }
        return null;
    }

    private static bool IsExecutable(string file)
    {
        if (!File.Exists(file)) return false;
        if (OperatingSystem.IsWindows()) return true;
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(file) & anyExecute) != 0;
    }
}
