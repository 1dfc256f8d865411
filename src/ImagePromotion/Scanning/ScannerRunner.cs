using System.ComponentModel;
using System.Diagnostics;
using ImagePromotion.Logging;
using ImagePromotion.Registry;

namespace ImagePromotion.Scanning;

/// <summary>One external scanner run: its report, or a one-line reason it failed. A failure is never a pass.</summary>
public sealed record ExternalScanResult(string Scanner, ScanReport? Report, string? FailureReason)
{
    public bool Succeeded => FailureReason is null;
}

/// <summary>
/// Runs a scanner as a child process against an image by digest and reads its report from stdout. Every way
/// it can go wrong (not installed, cannot start, timeout, non-zero exit, output that is not a report) becomes a
/// failed result with the reason, so a broken scanner cannot look like a clean image.
/// </summary>
public sealed class ScannerRunner(IPipelineLog? log = null)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>PATH used to find executables; null means this process's PATH.</summary>
    public string? PathVariable { get; init; }

    public async Task<ExternalScanResult> RunAsync(ScannerCommand command, ImageReference image, ScannerCredentials? credentials = null, CancellationToken cancellationToken = default)
    {
        if (image.Digest is not { } digest)
            throw new PromotionException($"scan target '{image}' has no digest; scan by digest (name@sha256:…) so the result belongs to exactly what is promoted");
        var target = image.Name + "@" + digest;

        var executable = ExecutableLocator.Find(command.Executable, PathVariable);
        if (executable is null)
            return Failed(command, $"executable '{command.Executable}' not found on PATH; install {command.Name} or configure its command with a full path");

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Arguments)
            start.ArgumentList.Add(argument.Replace(ScannerCommand.ImagePlaceholder, target, StringComparison.Ordinal));
        if (credentials is not null)
        {
            if (command.UsernameVariable is null || command.PasswordVariable is null)
                return Failed(command, "registry credentials were given but the scanner command names no username/password environment variables to pass them in");
            SecretRedactor.Shared.Add(credentials.Password);
            start.Environment[command.UsernameVariable] = credentials.Username;
            start.Environment[command.PasswordVariable] = credentials.Password;
            if (command.RegistryVariable is not null) start.Environment[command.RegistryVariable] = image.Registry;
        }
        if (image.IsLoopback && command.PlainHttpVariable is not null) start.Environment[command.PlainHttpVariable] = "true";

        log?.Information($"scan: running {command.Name} on {target}");
        using var process = new Process { StartInfo = start };
        try { process.Start(); }
        catch (Win32Exception ex)
        {
            return Failed(command, $"cannot start '{executable}' ({ex.Message}); check it is an executable for this platform");
        }
        process.StandardInput.Close();

        // Both pipes are drained concurrently: a scanner that fills stderr while we wait on stdout would hang.
        var stdout = ReadAllAsync(process.StandardOutput.BaseStream);
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            cancellationToken.ThrowIfCancellationRequested();
            return Failed(command, $"timed out after {Timeout.TotalSeconds:0}s and was stopped; raise the scanner timeout or check registry access");
        }

        var output = await stdout;
        var errors = await stderr;
        if (process.ExitCode != 0)
            return Failed(command, $"exited with code {process.ExitCode}: {LastLine(errors) ?? "no error output"}");
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

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    /// <summary>Scanners put the actual error last (after progress and warnings); one line of it, bounded.</summary>
    private static string? LastLine(string text)
    {
        var line = text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        if (line is null) return null;
        return line.Length <= 300 ? line : line[..297] + "...";
    }
}
