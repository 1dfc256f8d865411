using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;
using static ImagePromotion.Tests.Ci.Runner.GitHubActionsRunner;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>
/// The <c>uses:</c> steps of the shipped workflows, interpreted as the pinned versions behave (each pin is checked:
/// another commit fails the step until its behaviour is re-read):
/// <list type="bullet">
/// <item><c>actions/checkout</c> v7.0.1: a fresh clone of the origin at <c>with.ref</c>, or at GITHUB_SHA on the
/// event's branch; a ref of 40 hex digits is checked out detached;</item>
/// <item><c>actions/setup-dotnet</c> v6.0.0: checks this machine has the requested SDK line, installs nothing;</item>
/// <item><c>actions/upload-artifact</c> v7.0.0: the matched files copied into the run's artifact store under the
/// least common ancestor of the search paths; hidden files (a segment starting with '.') skipped unless
/// <c>include-hidden-files</c> (since v4.4, actions/upload-artifact#602, #611); a second upload of a name fails;</item>
/// <item><c>actions/download-artifact</c> v8.0.1: an artifact of this run or (with <c>run-id</c>, which needs
/// <c>github-token</c> and the <c>actions: read</c> permission) of another run, copied into <c>path</c>.</item>
/// </list>
/// </summary>
internal sealed partial class GitHubActionSteps(RunnerMachine machine)
{
    private static readonly Dictionary<string, (string Sha, string Version)> Implemented = new()
    {
        ["actions/checkout"] = ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
        ["actions/setup-dotnet"] = ("a98b56852c35b8e3190ac28c8c2271da59106c68", "v6.0.0"),
        ["actions/upload-artifact"] = ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
        ["actions/download-artifact"] = ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    };

    private readonly Dictionary<(long RunId, string Name), string> _artifacts = new();
    private readonly object _gate = new();

    /// <summary>The files of an artifact a run uploaded (a directory of the store), or null.</summary>
    public string? Artifact(long runId, string name) { lock (_gate) return _artifacts.GetValueOrDefault((runId, name)); }

    internal async Task<StepOutcome> RunAsync(string uses, IReadOnlyDictionary<string, string> with, StepContext context, CancellationToken ct)
    {
        var at = uses.IndexOf('@');
        if (at < 0) throw new RunnerException($"uses: {uses} has no @ref");
        var action = uses[..at];
        var pin = uses[(at + 1)..];
        if (!Implemented.TryGetValue(action, out var implemented)) throw new RunnerException($"uses: {action} is not implemented by this runner");
        if (!FullSha().IsMatch(pin)) throw new RunnerException($"uses: {uses} is not pinned to a commit SHA");
        if (pin != implemented.Sha)
            throw new RunnerException($"uses: {uses}: this runner implements {action} {implemented.Version} ({implemented.Sha}); read what the new pin changes, then update the runner");
        context.Log($"{action} {implemented.Version}");
        return action switch
        {
            "actions/checkout" => await CheckoutAsync(Only(with, action, "ref"), context, ct),
            "actions/setup-dotnet" => await SetupDotnetAsync(Only(with, action, "dotnet-version"), context, ct),
            "actions/upload-artifact" => Upload(Only(with, action, "name", "path", "if-no-files-found", "include-hidden-files"), context),
            _ => Download(Only(with, action, "name", "path", "run-id", "github-token"), context),
        };
    }

    private async Task<StepOutcome> CheckoutAsync(IReadOnlyDictionary<string, string> with, StepContext context, CancellationToken ct)
    {
        var workspace = context.Workspace;
        if (Directory.EnumerateFileSystemEntries(workspace).Any()) throw new RunnerException("checkout: the workspace is not empty");
        var github = context.Run;
        var requested = with.GetValueOrDefault("ref") is { Length: > 0 } r ? r : null;
        // Without ref: GITHUB_REF at GITHUB_SHA. A 40-hex ref is a commit, checked out detached.
        string? branch = requested is null ? github.Branch : FullSha().IsMatch(requested) ? null : requested.Replace("refs/heads/", "");
        var commit = requested is null ? github.HeadSha : FullSha().IsMatch(requested) ? requested : null;
        await RunnerMachine.GitAsync(workspace, ct, "init", "-q");
        await RunnerMachine.GitAsync(workspace, ct, "remote", "add", "origin", machine.OriginUrl);
        var source = commit ?? "refs/heads/" + branch;
        var destination = branch is null ? "" : $":refs/remotes/origin/{branch}";
        await RunnerMachine.GitAsync(workspace, ct, "fetch", "-q", "--no-tags", "--depth=1", "origin", $"+{source}{destination}");
        if (branch is null) await RunnerMachine.GitAsync(workspace, ct, "checkout", "-q", "--force", "--detach", "FETCH_HEAD");
        else await RunnerMachine.GitAsync(workspace, ct, "checkout", "-q", "--force", "-B", branch, $"refs/remotes/origin/{branch}");
        var head = (await RunnerMachine.GitAsync(workspace, ct, "rev-parse", "HEAD")).Trim();
        context.Log($"checked out {head}{(branch is null ? " (detached)" : $" on {branch}")}");
        await machine.RestoreModuleAsync(workspace, head, ct);
        lock (_gate) CheckedOut[context.Workspace] = head;
        return StepOutcome.Done(true);
    }

    /// <summary>The commit each job's workspace was checked out at (the runner keeps the module its first build made).</summary>
    public Dictionary<string, string> CheckedOut { get; } = new();

    private static string? _sdks;

    private static async Task<StepOutcome> SetupDotnetAsync(IReadOnlyDictionary<string, string> with, StepContext context, CancellationToken ct)
    {
        var version = with.GetValueOrDefault("dotnet-version") ?? throw new RunnerException("setup-dotnet: no dotnet-version");
        _sdks ??= (await Cli.Wrap("dotnet").WithArguments(["--list-sdks"]).ExecuteBufferedAsync(ct)).StandardOutput;
        var line = version.Replace(".x", "").Replace("x", "");
        var present = _sdks.Split('\n').Any(l => l.StartsWith(line, StringComparison.Ordinal));
        context.Log(present ? $"setup-dotnet: SDK {version} is on this machine (nothing installed)" : $"setup-dotnet: no SDK {version} on this machine");
        return StepOutcome.Done(present);
    }

    private StepOutcome Upload(IReadOnlyDictionary<string, string> with, StepContext context)
    {
        var name = with.GetValueOrDefault("name") is { Length: > 0 } n ? n : "artifact";
        var ifNone = with.GetValueOrDefault("if-no-files-found") is { Length: > 0 } i ? i : "warn";
        var includeHidden = with.GetValueOrDefault("include-hidden-files") == "true";
        var patterns = (with.GetValueOrDefault("path") ?? throw new RunnerException("upload-artifact: no path")).Split('\n')
            .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var files = new List<string>();
        var roots = new List<string>();
        foreach (var pattern in patterns)
        {
            if (pattern.StartsWith('!')) throw new RunnerException("upload-artifact: exclusion patterns are not implemented by this runner");
            var full = Path.GetFullPath(Path.Combine(context.Workspace, pattern));
            var segments = pattern.Split('/');
            var firstGlob = Array.FindIndex(segments, s => s.IndexOfAny(['*', '?', '[']) >= 0);
            if (firstGlob < 0)
            {
                if (File.Exists(full)) { files.Add(full); roots.Add(Path.GetDirectoryName(full)!); }
                else if (Directory.Exists(full)) { files.AddRange(Directory.GetFiles(full, "*", SearchOption.AllDirectories)); roots.Add(full); }
                continue;
            }
            var root = Path.GetFullPath(Path.Combine(context.Workspace, string.Join('/', segments[..firstGlob])));
            roots.Add(root);
            if (!Directory.Exists(root)) continue;
            var matcher = new Matcher(StringComparison.Ordinal);
            matcher.AddInclude(string.Join('/', segments[firstGlob..]));
            files.AddRange(matcher.Execute(new DirectoryInfoWrapper(new DirectoryInfo(root))).Files.Select(f => Path.GetFullPath(Path.Combine(root, f.Path))));
        }
        if (!includeHidden)
            files.RemoveAll(f => Path.GetRelativePath(context.Workspace, f).Split('/').Any(s => s.StartsWith('.')));
        files = files.Distinct().ToList();
        if (files.Count == 0)
        {
            var message = $"No files were found with the provided path: {string.Join(", ", patterns)}. No artifacts will be uploaded.";
            context.Log((ifNone == "error" ? "Error: " : "Warning: ") + message);
            if (ifNone == "warn") context.Job.Annotations.Add("warning: " + message);
            return StepOutcome.Done(ifNone != "error");
        }
        var common = roots.Aggregate(CommonAncestor);
        var store = machine.NewDirectory($"artifact-{context.Run.RunId}-{name}");
        lock (_gate)
        {
            if (!_artifacts.TryAdd((context.Run.RunId, name), store))
                throw new RunnerException($"upload-artifact: an artifact named {name} already exists in run {context.Run.RunId} (v4 and later do not overwrite)");
        }
        foreach (var file in files)
        {
            var target = Path.Combine(store, Path.GetRelativePath(common, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        context.Log($"uploaded artifact {name}: {files.Count} file(s)");
        return StepOutcome.Done(true);
    }

    private StepOutcome Download(IReadOnlyDictionary<string, string> with, StepContext context)
    {
        var name = with.GetValueOrDefault("name") is { Length: > 0 } n ? n : throw new RunnerException("download-artifact: downloading every artifact is not implemented; name one");
        var runId = context.Run.RunId;
        if (with.GetValueOrDefault("run-id") is { Length: > 0 } other)
        {
            if (with.GetValueOrDefault("github-token") is not { Length: > 0 })
                throw new RunnerException("download-artifact: run-id needs github-token");
            if (context.Permissions.GetValueOrDefault("actions") is not ("read" or "write"))
                throw new RunnerException("download-artifact: reading another run's artifacts needs the permission actions: read (GitHub answers 403)");
            runId = long.Parse(other);
        }
        var stored = Artifact(runId, name);
        if (stored is null)
        {
            context.Log($"Error: Unable to download artifact(s): Artifact not found for name: {name}");
            return StepOutcome.Done(false);
        }
        var path = Path.GetFullPath(Path.Combine(context.Workspace, with.GetValueOrDefault("path") is { Length: > 0 } p ? p : "."));
        RunnerMachine.CopyDirectory(stored, path);
        context.Log($"downloaded artifact {name} of run {runId} to {path}");
        return StepOutcome.Done(true);
    }

    private static string CommonAncestor(string a, string b)
    {
        var x = a.Split('/');
        var y = b.Split('/');
        var n = 0;
        while (n < x.Length && n < y.Length && x[n] == y[n]) n++;
        return string.Join('/', x[..n]) is { Length: > 0 } common ? common : "/";
    }

    private static IReadOnlyDictionary<string, string> Only(IReadOnlyDictionary<string, string> with, string action, params string[] known)
    {
        foreach (var key in with.Keys)
            if (!known.Contains(key)) throw new RunnerException($"uses: {action} with '{key}' is not implemented by this runner");
        return with;
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex FullSha();
}
