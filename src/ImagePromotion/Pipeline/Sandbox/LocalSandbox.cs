using System.Diagnostics;
using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline.Building;

using ImagePromotion.Processes;

namespace ImagePromotion.Pipeline.Sandbox;

/// <summary>
/// The local sandbox of the README's first command: distribution registries on loopback, one per
/// configured sandbox registry, left running after the run so later targets can use them.
/// </summary>
public sealed class LocalSandbox(PromotionConfig config, IPipelineLog log)
{
    private string WorkDirectory => config.ResolvePath(config.Sandbox?.WorkDirectory ?? ".sandbox");

    /// <summary>
    /// The Debian packages the sandbox lacks: docker-registry, git, and buildah unless it is there or the build uses a
    /// Docker engine that answers (<c>docker info</c>): a Docker CLI without a daemon builds nothing.
    /// </summary>
    /// <param name="ct">Cancels the <c>docker info</c> probe.</param>
    /// <param name="pathVariable">PATH to look for the tools in (tests); null: this process's PATH.</param>
    public async Task<IReadOnlyList<string>> MissingPackagesAsync(CancellationToken ct, string? pathVariable = null)
    {
        bool Has(string tool) => Scanning.ExecutableLocator.Find(tool, pathVariable) is not null;
        var missing = new List<string>();
        if (!Has("docker-registry")) missing.Add("docker-registry");
        var builders = config.Applications.SelectMany(a => a.Images).Select(i => i.Build.Builder).ToHashSet(StringComparer.Ordinal);
        var needsBuildah = builders.Contains("buildah")
            || builders.Contains("auto") && !await ImageBuilder.EngineAnswersAsync(pathVariable, ct).ConfigureAwait(false);
        if (needsBuildah && !Has("buildah")) missing.Add("buildah");
        if (!Has("git")) missing.Add("git");
        return missing;
    }

    /// <summary>Installs what <see cref="MissingPackagesAsync"/> finds missing on Debian/Ubuntu (as root), or says what to install.</summary>
    public async Task EnsurePrerequisitesAsync(CancellationToken ct)
    {
        var missing = await MissingPackagesAsync(ct).ConfigureAwait(false);
        if (missing.Count == 0) return;
        var packages = string.Join(' ', missing);
        var debian = File.Exists("/etc/debian_version");
        var root = Environment.UserName == "root";
        if (!debian || !root)
            throw new PromotionException(debian
                ? $"the sandbox needs {packages}: run 'sudo apt-get install -y {packages}' and try again"
                : $"the sandbox needs {packages}: install the CNCF distribution registry (docker-registry / 'registry' binary), buildah (or a running Docker engine) and git, then try again");
        log.Information($"installing {packages} (apt-get)");
        var update = await ProcessRunner.RunAsync("apt-get", new[] { "update", "-qq" }, ct: ct).ConfigureAwait(false);
        var install = await ProcessRunner.RunAsync("apt-get", new[] { "install", "-y", "-qq" }.Concat(missing),
            environment: new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" }, ct: ct).ConfigureAwait(false);
        if (install.ExitCode != 0)
            throw new PromotionException($"apt-get install {packages} failed (exit {install.ExitCode}): {ProcessRunner.LastLine(install.Error + update.Error)}");
    }

    /// <summary>
    /// Makes the sandbox's evidence signing key pairs (<c>sandbox.keys</c>), one per role, when missing; an existing key
    /// is never overwritten (the evidence it signed would stop verifying). The sandbox configuration's <c>trust:</c>
    /// names the public halves, so the first run shows signed, trusted evidence end to end.
    /// </summary>
    public void EnsureKeys()
    {
        if (config.Sandbox?.Keys is not { } keys) return;
        var directory = config.ResolvePath(keys);
        var created = new List<string>();
        foreach (var role in Enum.GetValues<Evidence.Attestations.KeyRole>())
            if (Evidence.Signing.KeyPairs.Ensure(directory, role).Created) created.Add(Evidence.Signing.KeyPairs.FileName(role));
        log.Information(created.Count == 0 ? $"sandbox signing keys: {directory} (kept as they are)"
            : $"sandbox signing keys: created {string.Join(", ", created)} in {directory} (never overwritten; the sandbox configuration trusts their .pub files)");
    }

    /// <summary>Starts each sandbox registry unless one already answers on its address.</summary>
    public async Task StartRegistriesAsync(CancellationToken ct)
    {
        foreach (var name in config.Sandbox?.Registries ?? Array.Empty<string>())
        {
            var host = config.Registries[name].Host;
            if (!ImagePromotion.Registry.ImageReference.IsLoopbackHost(host))
                throw new PromotionException($"{config.Source}: sandbox registry '{name}' has host {host}, which is not a loopback address: sandbox registries bind to 127.0.0.1 only");
            if (await AnswersAsync(host, ct).ConfigureAwait(false))
            {
                log.Verbose($"sandbox registry {name} already answers on {host}");
                continue;
            }
            var dir = Path.Combine(WorkDirectory, "registries", name);
            Directory.CreateDirectory(Path.Combine(dir, "data"));
            var configFile = Path.Combine(dir, "config.yml");
            await File.WriteAllTextAsync(configFile, RegistryConfig(host, Path.Combine(dir, "data")), ct).ConfigureAwait(false);
            // Detached through sh so the registry outlives this run; paths are passed as arguments, never spliced into the script.
            await ProcessRunner.RunAsync(new ProcessRequest("sh", ["-c", "exec \"$0\" serve \"$1\" >>\"$2\" 2>&1 </dev/null & echo $! >\"$3\"", "docker-registry",
                configFile, Path.Combine(dir, "registry.log"), Path.Combine(dir, "registry.pid")])
            { Timeout = TimeSpan.FromSeconds(30) }, ct: ct).ConfigureAwait(false);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!await AnswersAsync(host, ct).ConfigureAwait(false))
            {
                if (DateTime.UtcNow > deadline)
                    throw new PromotionException($"sandbox registry {name} did not start on {host}: see {Path.Combine(dir, "registry.log")} (is the port taken?)");
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            log.Information($"sandbox registry {name} listening on {host} (storage {dir})");
        }
    }

    /// <summary>
    /// Creates the local GitOps repositories the configuration names inside the sandbox (a bare repository
    /// seeded from <paramref name="seedDirectory"/>), so the default run ends with a real commit.
    /// </summary>
    public async Task EnsureGitOpsRepositoriesAsync(string seedDirectory, CancellationToken ct)
    {
        foreach (var env in config.Environments)
        {
            if (env.GitOps is not { } gitops || gitops.Repository.Contains("://", StringComparison.Ordinal)) continue;
            var bare = config.ResolvePath(gitops.Repository);
            if (Directory.Exists(bare)) continue;
            if (!bare.StartsWith(WorkDirectory, StringComparison.Ordinal))
                throw new PromotionException($"{config.Source}: GitOps repository {bare} of {env.Name} does not exist: create it, or point gitops.repository at an existing repository");
            var seedWork = Path.Combine(WorkDirectory, "gitops-seed");
            if (Directory.Exists(seedWork)) Directory.Delete(seedWork, recursive: true);
            CopyDirectory(seedDirectory, seedWork);
            await Git(WorkDirectory, "init", "--bare", "--initial-branch", gitops.BaseBranch, bare).ConfigureAwait(false);
            await Git(seedWork, "init", "--initial-branch", gitops.BaseBranch).ConfigureAwait(false);
            await Git(seedWork, "add", "-A").ConfigureAwait(false);
            await Git(seedWork, "-c", "user.name=sandbox", "-c", "user.email=sandbox@localhost", "commit", "-q", "-m", "Sandbox GitOps repository").ConfigureAwait(false);
            await Git(seedWork, "push", "-q", bare, gitops.BaseBranch).ConfigureAwait(false);
            Directory.Delete(seedWork, recursive: true);
            log.Information($"sandbox GitOps repository for {env.Name}: {bare}");
        }
    }

    private static async Task Git(string directory, params string[] args)
    {
        var r = await ProcessRunner.RunAsync("git", args, directory).ConfigureAwait(false);
        if (r.ExitCode != 0) throw new PromotionException($"git {args[0]} failed in {directory}: {ProcessRunner.LastLine(r.Error)}");
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    /// <summary>Stops the sandbox registries this tool started (by their pid files).</summary>
    public void StopRegistries()
    {
        foreach (var name in config.Sandbox?.Registries ?? Array.Empty<string>())
        {
            var pidFile = Path.Combine(WorkDirectory, "registries", name, "registry.pid");
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) continue;
            try { using var p = Process.GetProcessById(pid); p.Kill(); log.Information($"stopped sandbox registry {name} (pid {pid})"); }
            catch (ArgumentException) { /* already gone */ }
            File.Delete(pidFile);
        }
    }

    private static async Task<bool> AnswersAsync(string host, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var r = await http.GetAsync($"http://{host}/v2/", ct).ConfigureAwait(false);
            return r.Headers.Contains("Docker-Distribution-Api-Version");
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
    }

    private static string RegistryConfig(string host, string storage) => $"""
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: false
        storage:
          filesystem:
            rootdirectory: {storage}
          delete:
            enabled: true
        http:
          addr: {host}
          headers:
            X-Content-Type-Options: [nosniff]
        """;
}
