using ImagePromotion.Logging;
using ImagePromotion.Processes;
using ImagePromotion.Registry;

namespace ImagePromotion.Scanning;

/// <summary>One external scanner run: its report, or a one-line reason it failed. A failure is never a pass.</summary>
public sealed record ExternalScanResult(string Scanner, ScanReport? Report, string? FailureReason)
{
    /// <summary>True when the scanner ran and its report was read.</summary>
    public bool Succeeded => FailureReason is null;
}

/// <summary>
/// Runs a scanner as a child process against an image by digest and reads its report from stdout. Every way
/// it can go wrong (not installed, cannot start, timeout, non-zero exit, output that is not a report) becomes a
/// failed result with the reason, so a broken scanner cannot look like a clean image.
/// </summary>
public sealed class ScannerRunner(IPipelineLog? log = null)
{
    /// <summary>Longest a scanner may run before it is stopped (default 10 minutes).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>PATH used to find executables; null means this process's PATH.</summary>
    public string? PathVariable { get; init; }

    /// <summary>Runs <paramref name="command"/> against <paramref name="image"/> and reads its report; any failure is a failed result, never an exception.</summary>
    /// <param name="command">Executable, arguments and credential variables.</param>
    /// <param name="image">The image, pinned by digest.</param>
    /// <param name="credentials">Passed through the command's environment variables, never argv; null for none.</param>
    /// <param name="cancellationToken">Stops the scanner process.</param>
    /// <exception cref="PromotionException"><paramref name="image"/> has no digest.</exception>
    public async Task<ExternalScanResult> RunAsync(ScannerCommand command, ImageReference image, ScannerCredentials? credentials = null, CancellationToken cancellationToken = default)
    {
        if (image.Digest is not { } digest)
            throw new PromotionException($"scan target '{image}' has no digest; scan by digest (name@sha256:…) so the result belongs to exactly what is promoted");
        var target = image.Name + "@" + digest;

        var executable = ExecutableLocator.Find(command.Executable, PathVariable);
        if (executable is null)
            return Failed(command, $"executable '{command.Executable}' not found on PATH; install {command.Name} or configure its command with a full path");

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (credentials is not null)
        {
            if (command.UsernameVariable is null || command.PasswordVariable is null)
                return Failed(command, "registry credentials were given but the scanner command names no username/password environment variables to pass them in");
            SecretRedactor.Shared.Add(credentials.Password);
            environment[command.UsernameVariable] = credentials.Username;
            environment[command.PasswordVariable] = credentials.Password;
            if (command.RegistryVariable is not null) environment[command.RegistryVariable] = image.Registry;
        }
        if (image.IsLoopback && command.PlainHttpVariable is not null) environment[command.PlainHttpVariable] = "true";
        var request = new ProcessRequest(executable, command.Arguments.Select(a => a.Replace(ScannerCommand.ImagePlaceholder, target, StringComparison.Ordinal)).ToArray())
        {
            Environment = environment, Timeout = Timeout, Description = command.Name,
        };

        log?.Information($"scan: running {command.Name} on {target}");
        ProcessResult run;
        try { run = await ProcessRunner.RunAsync(request, ct: cancellationToken).ConfigureAwait(false); }
        catch (ProcessNotFoundException ex)
        {
            return Failed(command, $"cannot start '{executable}' ({ex.InnerException?.Message}); check it is an executable for this platform");
        }
        catch (ProcessTimeoutException)
        {
            return Failed(command, $"timed out after {Timeout.TotalSeconds:0}s and was stopped; raise the scanner timeout or check registry access");
        }

        var output = run.OutputBytes;
        if (run.ExitCode != 0)
            return Failed(command, $"exited with code {run.ExitCode}: {LastLine(run.Error) ?? "no error output"}");
        try
        {
            var report = ScanReportParser.Parse(output, $"{command.Name} output", command.Name);
            log?.Information($"scan: {command.Name} reported {report.Findings.Count} findings ({report.Format})");
            return new ExternalScanResult(command.Name, report, null);
        }
        catch (PromotionException ex)
        {
            return Failed(command, ex.Message);
        }
    }

    private ExternalScanResult Failed(ScannerCommand command, string reason)
    {
        var line = SecretRedactor.Shared.Redact($"{command.Name}: {reason}");
        log?.Warning("scan: " + line);
        return new ExternalScanResult(command.Name, null, line);
    }

    /// <summary>Scanners put the actual error last (after progress and warnings); one line of it, bounded.</summary>
    private static string? LastLine(string text)
    {
        var line = text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        if (line is null) return null;
        return line.Length <= 300 ? line : line[..297] + "...";
    }
}
