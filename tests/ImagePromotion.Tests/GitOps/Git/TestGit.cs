using System.Diagnostics;

namespace ImagePromotion.Tests.GitOps.Git;

/// <summary>
/// Plain git for test set-up and inspection (seeding bare remotes, playing the "other developer" who
/// pushes concurrently, reading what landed). Independent of the code under test on purpose.
/// </summary>
internal static class TestGit
{
    public static string Run(string? workTree, params string[] args)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workTree != null) psi.WorkingDirectory = workTree;
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        foreach (var a in new[] { "-c", "user.name=Other Dev", "-c", "user.email=other@example.com", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main" }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException("git " + string.Join(' ', args)); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {stderr.Result}");
        return stdout.Result.Trim();
    }

    public static string FileUrl(string path) => new Uri(path).AbsoluteUri;
}

/// <summary>A bare "server" repository on disk, seeded with a main branch, plus a scratch area.</summary>
internal sealed class BareRemote : IDisposable
{
    public string Root { get; }
    public string BarePath { get; }
    public string Url => TestGit.FileUrl(BarePath);

    public BareRemote(string name = "gitops.git")
    {
        Root = Path.Combine(Path.GetTempPath(), "ip-git-" + Guid.NewGuid().ToString("N")[..10]);
        BarePath = Path.Combine(Root, "remotes", name);
        Directory.CreateDirectory(BarePath);
        TestGit.Run(BarePath, "init", "--quiet", "--bare", "--initial-branch=main");
        var seed = NewPath("seed");
        TestGit.Run(null, "clone", "--quiet", BarePath, seed);
        Write(seed, "apps/web/staging/deployment.yaml", Manifest("web", "sha256:" + new string('a', 64)));
        Write(seed, "apps/api/staging/deployment.yaml", Manifest("api", "sha256:" + new string('b', 64)));
        Write(seed, "README.md", "GitOps repository\n");
        TestGit.Run(seed, "add", "-A");
        TestGit.Run(seed, "commit", "--quiet", "-m", "Initial manifests");
        TestGit.Run(seed, "push", "--quiet", "origin", "HEAD:refs/heads/main");
    }

    public string NewPath(string name) => Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..6]);

    /// <summary>Another developer's clone that pushes <paramref name="file"/> to <paramref name="branch"/> (created from main if absent).</summary>
    public string PushFromElsewhere(string branch, string file, string content)
    {
        var clone = NewPath("other");
        TestGit.Run(null, "clone", "--quiet", BarePath, clone);
        var exists = TestGit.Run(clone, "ls-remote", "--heads", "origin", "refs/heads/" + branch).Length > 0;
        TestGit.Run(clone, "checkout", "--quiet", "-B", branch, exists ? "origin/" + branch : "origin/main");
        Write(clone, file, content);
        TestGit.Run(clone, "add", "-A");
        TestGit.Run(clone, "commit", "--quiet", "-m", "Concurrent change to " + file);
        TestGit.Run(clone, "push", "--quiet", "origin", "HEAD:refs/heads/" + branch);
        return TestGit.Run(clone, "rev-parse", "HEAD");
    }

    public string? Head(string branch)
    {
        var line = TestGit.Run(BarePath, "for-each-ref", "--format=%(objectname)", "refs/heads/" + branch);
        return line.Length == 0 ? null : line;
    }

    public string Show(string branch, string file) => TestGit.Run(BarePath, "show", branch + ":" + file);

    public string Log(string branch, string format) => TestGit.Run(BarePath, "log", "--format=" + format, branch);

    public static string Manifest(string service, string digest) =>
        $"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {service}\nspec:\n  template:\n    spec:\n      containers:\n        - name: {service}\n          image: registry.example.com/{service}@{digest}\n";

    public static void Write(string root, string relative, string content)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public void Dispose()
    {
        try
        {
            // git marks pack files read-only; clear that so the temp tree can go.
            foreach (var f in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)) File.SetAttributes(f, FileAttributes.Normal);
            Directory.Delete(Root, true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
