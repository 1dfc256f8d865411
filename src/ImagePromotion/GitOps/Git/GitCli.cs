using ImagePromotion.Logging;
using ImagePromotion.Processes;

namespace ImagePromotion.GitOps.Git;

/// <summary>What one git invocation printed and how it ended; output is already redacted.</summary>
internal sealed record GitOutput(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the git command line. Arguments go through the module's <see cref="ProcessRunner"/> as a list (never a
/// shell), credentials only through the environment, and every byte git prints is redacted before anyone
/// sees it, because git echoes remote URLs and server messages verbatim.
/// </summary>
internal sealed class GitCli(GitCredentials credentials, IPipelineLog log, TimeSpan commandTimeout)
{
    public string Executable { get; init; } = "git";

    /// <summary>Runs git and throws a one-line <see cref="PromotionException"/> when it fails.</summary>
    public async Task<GitOutput> RunAsync(string? workTree, IReadOnlyList<string> args, CancellationToken ct, string? context = null)
    {
        var output = await TryRunAsync(workTree, args, ct).ConfigureAwait(false);
        if (!output.Succeeded) throw Failure(args, output, context);
        return output;
    }

    /// <summary>Runs git and hands back the exit code; for commands whose failure is an answer (push rejected).</summary>
    public async Task<GitOutput> TryRunAsync(string? workTree, IReadOnlyList<string> args, CancellationToken ct)
    {
        // Identity-independent, prompt-free, locale-stable: a CI runner has no terminal and maybe no git config.
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["GIT_TERMINAL_PROMPT"] = "0", ["LC_ALL"] = "C", ["GIT_PAGER"] = "cat", ["GIT_ASKPASS"] = null, ["SSH_ASKPASS"] = null,
        };
        // Credentials add their entries after any git config the caller's environment already passes the same way.
        if (System.Environment.GetEnvironmentVariable("GIT_CONFIG_COUNT") is { } count) environment["GIT_CONFIG_COUNT"] = count;
        credentials.Apply(environment);
        log.Verbose("git " + string.Join(' ', args));
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(new ProcessRequest(Executable, args)
            {
                WorkingDirectory = workTree, Environment = environment, Timeout = commandTimeout, Description = "git " + Subcommand(args),
            }, ct: ct).ConfigureAwait(false);
        }
        catch (ProcessNotFoundException e)
        {
            throw new PromotionException($"Cannot start '{Executable}': {e.InnerException?.Message}; install git and put it on PATH.");
        }
        catch (ProcessTimeoutException)
        {
            throw new PromotionException($"git {Subcommand(args)} did not finish within {commandTimeout.TotalSeconds:0.###}s; check the network path to the GitOps remote or raise the git command timeout.");
        }
        var redactor = SecretRedactor.Shared;
        return new GitOutput(result.ExitCode, redactor.Redact(result.Output), redactor.Redact(result.Error));
    }

    public static PromotionException Failure(IReadOnlyList<string> args, GitOutput output, string? context)
    {
        var where = context == null ? "" : " (" + context + ")";
        return new PromotionException($"git {Subcommand(args)} failed{where}: {FirstMeaningfulLine(output.StandardError, output.StandardOutput)}");
    }

    /// <summary>The git subcommand, skipping global options such as <c>-c key=value</c> and <c>-C dir</c>.</summary>
    public static string Subcommand(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "-c" or "-C") { i++; continue; }
            if (!args[i].StartsWith('-')) return args[i];
        }
        return "(no subcommand)";
    }

    /// <summary>
    /// git prefixes the line that explains a failure with "fatal:" or "error:"; a server that refuses a push
    /// (branch protection, a hook) speaks through "remote: error:" and a "[remote rejected]" line. Progress
    /// ("Cloning into"), hints and blank lines only bury the reason.
    /// </summary>
    public static string FirstMeaningfulLine(string stderr, string stdout = "")
    {
        var lines = (stderr + "\n" + stdout).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string? Find(Func<string, bool> match) => lines.FirstOrDefault(match);
        var line = Find(l => l.StartsWith("fatal:", StringComparison.Ordinal))
            ?? Find(l => l.StartsWith("remote: error:", StringComparison.Ordinal))
            ?? Find(l => l.Contains("rejected]", StringComparison.Ordinal))
            ?? Find(l => l.StartsWith("error:", StringComparison.Ordinal))
            ?? Find(l => !l.StartsWith("hint:", StringComparison.Ordinal) && !l.StartsWith("Cloning into", StringComparison.Ordinal))
            ?? "no output from git";
        line = line.Replace('\t', ' ');
        return SecretRedactor.Shared.Redact(line);
    }
}
