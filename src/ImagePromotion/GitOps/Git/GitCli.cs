using System.Diagnostics;
using System.Text;
using ImagePromotion.Logging;

namespace ImagePromotion.GitOps.Git;

/// <summary>What one git invocation printed and how it ended; output is already redacted.</summary>
internal sealed record GitOutput(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the git command line. Arguments go through <see cref="ProcessStartInfo.ArgumentList"/> (never a
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
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (workTree != null) psi.WorkingDirectory = workTree;
        // Identity-independent, prompt-free, locale-stable: a CI runner has no terminal and maybe no git config.
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["GIT_PAGER"] = "cat";
        psi.Environment.Remove("GIT_ASKPASS");
        psi.Environment.Remove("SSH_ASKPASS");
        credentials.Apply(psi.Environment);
        foreach (var a in args) psi.ArgumentList.Add(a);

        log.Verbose("git " + string.Join(' ', args));
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PromotionException($"Cannot start '{Executable}': {e.Message}; install git and put it on PATH.");
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(commandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new PromotionException($"git {Subcommand(args)} did not finish within {commandTimeout.TotalSeconds:0.###}s; check the network path to the GitOps remote or raise the git command timeout.");
        }
        var redactor = SecretRedactor.Shared;
        return new GitOutput(process.ExitCode, redactor.Redact(await stdout.ConfigureAwait(false)), redactor.Redact(await stderr.ConfigureAwait(false)));
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
