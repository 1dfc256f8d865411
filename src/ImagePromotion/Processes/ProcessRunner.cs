using System.Text;
using CliWrap;
using ImagePromotion.Logging;

namespace ImagePromotion.Processes;

/// <summary>
/// One external command: the executable (a name looked up on PATH, or a path) and its arguments, passed as an
/// argument list (never through a shell), with what it may read and how long it may take.
/// </summary>
/// <param name="Executable">The program: a name on PATH (<c>git</c>) or a full path.</param>
/// <param name="Arguments">Each argument as one element; nothing is split or quoted by a shell.</param>
public sealed record ProcessRequest(string Executable, IReadOnlyList<string> Arguments)
{
    /// <summary>The child's working directory; null: this process's current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set for the child on top of this process's environment; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Text written to the child's standard input, which is then closed; null: an empty, closed input.</summary>
    public string? StandardInput { get; init; }

    /// <summary>How long the child may run before it is killed (with its process tree); default 10 minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How the command is named in messages (default: the executable and its first argument).</summary>
    public string? Description { get; init; }

    /// <summary>The name messages use for this command.</summary>
    public string Name => Description ?? (Arguments.Count > 0 ? $"{Executable} {Arguments[0]}" : Executable);
}

/// <summary>How a command ended: its exit code and everything it printed (standard output also as raw bytes).</summary>
public sealed record ProcessResult(int ExitCode, byte[] OutputBytes, string Error)
{
    /// <summary>Standard output decoded as UTF-8.</summary>
    public string Output => Encoding.UTF8.GetString(OutputBytes);

    /// <summary>True for exit code 0.</summary>
    public bool Succeeded => ExitCode == 0;
}

/// <summary>The executable could not be started: not installed, not on PATH, or not runnable on this platform.</summary>
public sealed class ProcessNotFoundException(string executable, string message, Exception inner) : PromotionException(message, inner)
{
    /// <summary>The executable that could not be started.</summary>
    public string Executable { get; } = executable;
}

/// <summary>The command ran longer than <see cref="ProcessRequest.Timeout"/> and was killed with its process tree.</summary>
public sealed class ProcessTimeoutException(string command, TimeSpan timeout)
    : PromotionException($"{command} did not finish within {Durations(timeout)} and was stopped")
{
    /// <summary>The command's name, as in <see cref="ProcessRequest.Name"/>.</summary>
    public string Command { get; } = command;

    /// <summary>The limit it ran into.</summary>
    public TimeSpan Timeout { get; } = timeout;

    private static string Durations(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.###} s" : $"{t.TotalMilliseconds:0} ms";
}

/// <summary>
/// The one way this module runs an external command (git, buildah, docker, apt-get, scanners, credential
/// helpers, the sandbox registries), on CliWrap: argument lists instead of a shell, both output pipes drained
/// concurrently (a child filling stderr cannot hang the run), a timeout, and cancellation that kills the child
/// and its process tree rather than leaving it running. A non-zero exit is an answer, not an exception: the
/// caller decides what it means.
/// </summary>
public static class ProcessRunner
{
    /// <summary>Runs the command to completion.</summary>
    /// <exception cref="ProcessNotFoundException">the executable cannot be started.</exception>
    /// <exception cref="ProcessTimeoutException">it ran past <see cref="ProcessRequest.Timeout"/>; the child was killed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; the child was killed.</exception>
    public static async Task<ProcessResult> RunAsync(ProcessRequest request, IPipelineLog? log = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var output = new MemoryStream();
        var error = new StringBuilder();
        var command = Cli.Wrap(request.Executable)
            .WithArguments(request.Arguments)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStream(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(error, Encoding.UTF8));
        if (request.WorkingDirectory is not null) command = command.WithWorkingDirectory(request.WorkingDirectory);
        if (request.Environment is not null) command = command.WithEnvironmentVariables(request.Environment);
        if (request.StandardInput is not null) command = command.WithStandardInputPipe(PipeSource.FromString(request.StandardInput, Encoding.UTF8));
        log?.Verbose($"run: {request.Executable} {string.Join(' ', request.Arguments)}");

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(request.Timeout);
        try
        {
            // CliWrap's forceful cancellation kills the child's whole process tree.
            var result = await command.ExecuteAsync(deadline.Token).ConfigureAwait(false);
            return new ProcessResult(result.ExitCode, output.ToArray(), error.ToString());
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ProcessTimeoutException(request.Name, request.Timeout);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new ProcessNotFoundException(request.Executable,
                $"cannot start '{request.Executable}' ({ex.Message}): install it (on Debian/Ubuntu: apt-get install {Path.GetFileName(request.Executable)}) or put it on PATH", ex);
        }
    }

    /// <summary>Runs <paramref name="executable"/> with <paramref name="arguments"/> and the default timeout.</summary>
    public static Task<ProcessResult> RunAsync(string executable, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, IPipelineLog? log = null, CancellationToken ct = default) =>
        RunAsync(new ProcessRequest(executable, arguments.ToArray()) { WorkingDirectory = workingDirectory, Environment = environment }, log, ct);

    /// <summary>True when <paramref name="file"/> is an executable on PATH (execute bit, PATHEXT on Windows).</summary>
    public static bool Exists(string file) => Scanning.ExecutableLocator.Find(file) is not null;

    /// <summary>The last non-empty line of a tool's output: usually the one that says what went wrong.</summary>
    public static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";
}
