using System.Text;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>
/// CodeBuild's Amazon S3 cache with a buildspec <c>cache:</c> key (docs: "Amazon S3 caching", "buildspec reference:
/// cache"): the key is evaluated in the build's shell (with the <c>codebuild-hash-files</c> tool), an entry is restored
/// by its exact key or else by the first <c>fallback-keys</c> entry that prefixes a saved key, and saved after a
/// successful build under its key unless that key exists (an entry is never updated once created). Keys are shared by
/// every project of the bucket location. <c>paths</c> of the form <c>DIR/**/*</c> under the source directory are copied
/// both ways; absolute paths (the NuGet folder under /root) are this machine's, shared by every build of this runner,
/// so they are recorded, not copied.
/// </summary>
internal sealed class CodeBuildCache(RunnerMachine machine)
{
    private readonly Dictionary<string, (IReadOnlyList<string> Paths, string Store, int Saved)> _entries = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>The saved keys, in order of saving.</summary>
    public IReadOnlyList<string> Keys { get { lock (_gate) return _entries.OrderBy(e => e.Value.Saved).Select(e => e.Key).ToArray(); } }

    /// <summary>
    /// codebuild-hash-files PATTERN…: one SHA-256 over the SHA-256 of every file the glob patterns match under the
    /// current directory (the source directory), in path order.
    /// </summary>
    public const string HashFilesTool = """
        #!/usr/bin/env bash
        set -euo pipefail
        shopt -s globstar nullglob dotglob
        for pattern in "$@"; do for f in $pattern; do [ -f "$f" ] && printf '%s\n' "$f"; done; done | LC_ALL=C sort -u \
          | while IFS= read -r f; do sha256sum "$f" | cut -c1-64; done | sha256sum | cut -c1-64
        """;

    /// <summary>The directory each <c>DIR/**/*</c> path stands for, or the absolute path as written.</summary>
    public static string Directory(string path)
    {
        if (path.StartsWith('/')) return path;
        if (!path.EndsWith("/**/*", StringComparison.Ordinal)) throw new RunnerException($"cache path '{path}': only DIR/**/* paths are implemented by this runner");
        return path[..^"/**/*".Length];
    }

    /// <summary>Restores the entry for <paramref name="key"/> (or a fallback) into <paramref name="sourceDirectory"/>; the key restored, or null.</summary>
    public string? Restore(string key, IReadOnlyList<string> fallbackKeys, string sourceDirectory, StringBuilder log)
    {
        string? found;
        (IReadOnlyList<string> Paths, string Store, int Saved) entry;
        lock (_gate)
        {
            found = _entries.ContainsKey(key) ? key
                : fallbackKeys.Select(prefix => _entries.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderByDescending(e => e.Value.Saved).Select(e => e.Key).FirstOrDefault())
                    .FirstOrDefault(k => k is not null);
            if (found is null) { log.AppendLine($"[Container] cache: no entry for key {key} or its fallback keys"); return null; }
            entry = _entries[found];
        }
        foreach (var dir in entry.Paths.Select(Directory).Where(d => !d.StartsWith('/')))
            if (System.IO.Directory.Exists(Path.Combine(entry.Store, dir)))
                RunnerMachine.CopyDirectory(Path.Combine(entry.Store, dir), Path.Combine(sourceDirectory, dir), keepTimes: true);
        log.AppendLine($"[Container] cache: restored from key {found}");
        return found;
    }

    /// <summary>Saves <paramref name="paths"/> under <paramref name="key"/> unless an entry with that key exists.</summary>
    public void Save(string key, IReadOnlyList<string> paths, string sourceDirectory, StringBuilder log)
    {
        lock (_gate)
        {
            if (_entries.ContainsKey(key)) { log.AppendLine($"[Container] cache: key {key} exists, not saved again"); return; }
            var store = machine.NewDirectory("codebuild-cache-" + _entries.Count);
            foreach (var dir in paths.Select(Directory).Where(d => !d.StartsWith('/')))
                if (System.IO.Directory.Exists(Path.Combine(sourceDirectory, dir)))
                    RunnerMachine.CopyDirectory(Path.Combine(sourceDirectory, dir), Path.Combine(store, dir), keepTimes: true);
            _entries[key] = (paths, store, _entries.Count);
        }
        log.AppendLine($"[Container] cache: saved with key {key}");
    }
}
