using System.Diagnostics;

namespace ImagePromotion.Tests.Servers.GitHub;

/// <summary>The fake GitHub's own git: resolves branch heads and performs merges in a bare repository.</summary>
internal static class BareGit
{
    public static (int ExitCode, string Output) TryRun(string bare, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = bare };
        foreach (var a in new[] { "-c", "user.name=GitHub", "-c", "user.email=noreply@github.com", "-c", "commit.gpgsign=false" }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000)) { p.Kill(true); return (-1, "timeout"); }
        return (p.ExitCode, (stdout.Result + stderr.Result).Trim());
    }

    public static string? Head(string bare, string branch)
    {
        var (code, output) = TryRun(bare, "rev-parse", "--verify", "--quiet", "refs/heads/" + branch);
        return code == 0 ? output : null;
    }

    /// <summary>Merges head into base the way the merge button does; null when the two conflict.</summary>
    public static string? Merge(string bare, string baseBranch, string baseSha, string headSha, string method, string title, string message)
    {
        var (code, output) = TryRun(bare, "merge-tree", "--write-tree", baseSha, headSha);
        if (code != 0) return null;
        var tree = output.Split('\n')[0].Trim();
        // squash and rebase both land one new commit on the base for a single-commit promotion branch.
        var parents = method == "merge" ? new[] { "-p", baseSha, "-p", headSha } : new[] { "-p", baseSha };
        var (commitCode, commit) = TryRun(bare, ["commit-tree", tree, .. parents, "-m", title, "-m", message]);
        if (commitCode != 0) throw new InvalidOperationException(commit);
        var (refCode, refOutput) = TryRun(bare, "update-ref", "refs/heads/" + baseBranch, commit, baseSha);
        if (refCode != 0) throw new InvalidOperationException(refOutput);
        return commit;
    }
}
