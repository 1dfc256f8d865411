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
/// <c>github-token</c> and the <c>actions: read</c> permission) of another run, copied into <c>path</c>;</item>
/// <item><c>actions/cache</c> v5.0.5: restores the entry saved under <c>key</c> (output <c>cache-hit</c> true) or else the
/// newest whose key starts with a line of <c>restore-keys</c>; a post-job step saves the paths under <c>key</c> when the
/// job succeeded and no entry has that key (entries are immutable: "Unable to reserve cache"). Workspace paths are
/// copied both ways; paths under <c>~</c> are this machine's home, which every job of this runner shares (as on a
/// persistent runner), so they are recorded, not copied.</item>
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
        ["actions/cache"] = ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    };

    /// <summary>One saved cache entry: its key, the paths as written, where the workspace paths' copies are, and its order of saving.</summary>
    public sealed record CacheEntry(string Key, IReadOnlyList<string> Paths, string Store, int Saved);

    private readonly Dictionary<string, CacheEntry> _caches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(string Key, IReadOnlyList<string> Paths, bool Hit)>> _pendingSaves = new();

    /// <summary>The cache entries saved so far, by key.</summary>
    public IReadOnlyDictionary<string, CacheEntry> Caches { get { lock (_gate) return new Dictionary<string, CacheEntry>(_caches); } }

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
            "actions/cache" => await RestoreAsync(Only(with, action, "path", "key", "restore-keys"), context, ct),
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

    private static IReadOnlyList<string> Lines(string? text) =>
        (text ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    private async Task<StepOutcome> RestoreAsync(IReadOnlyDictionary<string, string> with, StepContext context, CancellationToken ct)
    {
        var paths = Lines(with.GetValueOrDefault("path"));
        var key = with.GetValueOrDefault("key")?.Trim() ?? "";
        if (paths.Count == 0) throw new RunnerException("cache: Input required and not supplied: path");
        if (key.Length == 0) throw new RunnerException("cache: Input required and not supplied: key");
        if (key.Length > 512 || key.Contains(',')) throw new RunnerException($"cache: Key Validation Error: {key} cannot be longer than 512 characters or contain commas");
        if (paths.Any(p => p.StartsWith('!'))) throw new RunnerException("cache: exclusion paths are not implemented by this runner");
        CacheEntry? found;
        lock (_gate)
        {
            found = _caches.GetValueOrDefault(key)
                ?? Lines(with.GetValueOrDefault("restore-keys")).Select(prefix => _caches.Values.Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal))
                    .MaxBy(c => c.Saved)).FirstOrDefault(c => c is not null);
            _pendingSaves.TryAdd(context.Workspace, []);
            _pendingSaves[context.Workspace].Add((key, paths, found?.Key == key));
        }
        var outputs = new Dictionary<string, string> { ["cache-hit"] = (found?.Key == key) ? "true" : "false" };
        if (found is null)
        {
            context.Log($"Cache not found for input keys: {string.Join(", ", new[] { key }.Concat(Lines(with.GetValueOrDefault("restore-keys"))))}");
            return new StepOutcome(true, outputs, new Dictionary<string, string>(), []);
        }
        // A restore puts back the paths as they were saved, relative to the workspace (the entry's own path list).
        foreach (var path in found.Paths.Where(p => !p.StartsWith('~')))
        {
            var saved = Path.Combine(found.Store, path);
            var target = Path.GetFullPath(Path.Combine(context.Workspace, path));
            if (Directory.Exists(saved)) RunnerMachine.CopyDirectory(saved, target, keepTimes: true);
        }
        context.Log($"Cache restored from key: {found.Key}");
        // The runner's own module cache (a test-speed device, not GitHub's) applies after any restore into the workspace.
        string? head;
        lock (_gate) head = CheckedOut.GetValueOrDefault(context.Workspace);
        if (head is not null) await machine.RestoreModuleAsync(context.Workspace, head, ct);
        return new StepOutcome(true, outputs, new Dictionary<string, string>(), []);
    }

    /// <summary>actions/cache's post-job step: saves each cache step's paths under its key, when the job succeeded and the key is new.</summary>
    internal void SaveCaches(StepContext context, bool jobFailed)
    {
        List<(string Key, IReadOnlyList<string> Paths, bool Hit)> pending;
        lock (_gate) pending = _pendingSaves.Remove(context.Workspace, out var p) ? p : [];
        foreach (var (key, paths, hit) in Enumerable.Reverse(pending))
        {
            if (jobFailed) { context.Log($"Post cache: not saving cache for key {key}: the job failed"); continue; }
            if (hit) { context.Log($"Cache hit occurred on the primary key {key}, not saving cache."); continue; }
            var local = paths.Where(p => !p.StartsWith('~')).ToArray();
            if (local.Length > 0 && !local.Any(p => Directory.Exists(Path.Combine(context.Workspace, p))))
            {
                context.Log("Warning: Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.");
                continue;
            }
            lock (_gate)
            {
                if (_caches.ContainsKey(key))
                {
                    context.Log($"Failed to save: Unable to reserve cache with key {key}, another job may be creating this cache.");
                    continue;
                }
                var store = machine.NewDirectory("cache-" + _caches.Count);
                foreach (var path in local)
                    if (Directory.Exists(Path.Combine(context.Workspace, path))) RunnerMachine.CopyDirectory(Path.Combine(context.Workspace, path), Path.Combine(store, path), keepTimes: true);
                _caches[key] = new CacheEntry(key, paths, store, _caches.Count);
            }
            context.Log($"Cache saved with key: {key}");
        }
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
