using System.Collections;
using System.Text;
using CliWrap;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>
/// What the CI runners of this folder share, as one CI machine would: the origin repository (this checkout's files,
/// committed), a fresh clone and work directory for each job or stage, the machine's environment (never this test
/// process's own variables), bash to run steps with, and the tools on PATH:
/// <list type="bullet">
/// <item><c>buildah</c> and <c>docker</c> wrappers that append every image build to <see cref="BuildLogPath"/> (the
/// job or stage that ran it, and the arguments) and then run the real tool; without a real docker the wrapper is a
/// Docker CLI with no engine behind it, as on this project's machines;</item>
/// <item><c>aws</c>, answering only <c>ecr get-login-password</c> with the registry password (CodeBuild's image has the AWS CLI).</item>
/// </list>
/// A built pipeline module (<c>.artifacts/module</c>) is kept after the first job that builds it and laid into later
/// clones of the same sources, as a cache would: every job still runs <c>./build.sh</c>, which then skips the compile.
/// </summary>
internal sealed class RunnerMachine : IDisposable
{
    // One module cache for the test process: every machine's origin has the same module sources (the key says so).
    private static readonly object CacheGate = new();
    private static readonly string ModuleCache = Path.Combine(Path.GetTempPath(), "cirunner-module-" + Environment.ProcessId);
    private static string? _moduleCacheKey;

    static RunnerMachine()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(ModuleCache, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
    }

    public RunnerMachine(string registryPassword)
    {
        // No '.' in any folder name: upload-artifact treats files below a dot-folder as hidden.
        Root = Directory.CreateTempSubdirectory("cirunner-").FullName;
        ShimDirectory = Directory.CreateDirectory(Path.Combine(Root, "bin")).FullName;
        BuildLogPath = Path.Combine(Root, "builds.log");
        File.WriteAllText(BuildLogPath, "");
        WriteShims(registryPassword);
    }

    public string Root { get; }
    public string ShimDirectory { get; }
    public string BuildLogPath { get; }
    public string OriginPath => Path.Combine(Root, "origin.git");
    public string OriginUrl => "file://" + OriginPath;

    /// <summary>Variables every job gets on top of the CI system's own (the runner machine's environment).</summary>
    public Dictionary<string, string> MachineEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>Every image build any job or stage ran: "JOB\targuments".</summary>
    public IReadOnlyList<string> Builds => File.ReadAllLines(BuildLogPath).Where(l => l.Length > 0).ToArray();

    /// <summary>
    /// Creates the origin repository from this checkout's files as they are now (tracked and untracked, minus what
    /// .gitignore excludes) on branch main, and returns the commit.
    /// </summary>
    public async Task<string> CreateOriginAsync(string sourceRoot, CancellationToken ct)
    {
        var seed = Path.Combine(Root, "seed");
        await GitAsync(Root, ct, "init", "-q", "--bare", "-b", "main", OriginPath);
        await GitAsync(Root, ct, "-C", OriginPath, "config", "uploadpack.allowAnySHA1InWant", "true");
        await GitAsync(Root, ct, "init", "-q", "-b", "main", seed);
        // The checkout's own .gitignore decides what is source: build outputs and sandboxes stay out.
        await GitAsync(seed, ct, "--work-tree", sourceRoot, "add", "-A");
        await GitAsync(seed, ct, "--work-tree", sourceRoot, "commit", "-q", "-m", "the commit under test");
        await GitAsync(seed, ct, "push", "-q", OriginPath, "main");
        return (await GitAsync(seed, ct, "rev-parse", "HEAD")).Trim();
    }

    /// <summary>
    /// Commits the public keys of <paramref name="keysDirectory"/> (<c>*.pub</c>) to origin's main under
    /// <paramref name="target"/>, as an adopter commits the keys its configuration trusts (the private halves are CI
    /// secrets); returns the new commit.
    /// </summary>
    public Task<string> CommitPublicKeysAsync(string keysDirectory, string target, CancellationToken ct) =>
        CommitOnOriginMainAsync("keys", "the public keys the configuration trusts", work =>
        {
            Directory.CreateDirectory(Path.Combine(work, target));
            foreach (var pub in Directory.EnumerateFiles(keysDirectory, "*.pub"))
                File.Copy(pub, Path.Combine(work, target, Path.GetFileName(pub)));
            return Task.CompletedTask;
        }, ["-f", target], ct); // -f: the sandbox's key folder is ignored by .gitignore; committing trusted keys is deliberate.

    /// <summary>Adds a commit on top of origin's main (a later push), changing one file that is not pipeline source.</summary>
    public Task<string> CommitOnMainAsync(string file, string content, CancellationToken ct) =>
        CommitOnOriginMainAsync("commit", "a later commit", work => File.WriteAllTextAsync(Path.Combine(work, file), content, ct), [file], ct);

    /// <summary>Clones origin, applies <paramref name="change"/> to the work tree, adds <paramref name="add"/>, commits and pushes main; returns the commit.</summary>
    private async Task<string> CommitOnOriginMainAsync(string name, string message, Func<string, Task> change, string[] add, CancellationToken ct)
    {
        var work = Path.Combine(Root, $"{name}-{Guid.NewGuid().ToString("N")[..8]}");
        await GitAsync(Root, ct, "clone", "-q", OriginUrl, work);
        await change(work);
        await GitAsync(work, ct, ["add", .. add]);
        await GitAsync(work, ct, "commit", "-q", "-m", message);
        await GitAsync(work, ct, "push", "-q", "origin", "main");
        var sha = (await GitAsync(work, ct, "rev-parse", "HEAD")).Trim();
        Directory.Delete(work, recursive: true);
        return sha;
    }

    /// <summary>A new, empty directory for one job or stage.</summary>
    public string NewDirectory(string name)
    {
        var safe = new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray()).TrimStart('-');
        return Directory.CreateDirectory(Path.Combine(Root, "jobs", $"{safe}-{Guid.NewGuid().ToString("N")[..6]}")).FullName;
    }

    /// <summary>Lays the cached module into a work directory of <paramref name="commit"/>, when its module sources are those it was built from.</summary>
    public async Task RestoreModuleAsync(string workspace, string commit, CancellationToken ct)
    {
        var key = await ModuleKeyAsync(commit, ct);
        var target = Path.Combine(workspace, ".artifacts", "module");
        lock (CacheGate)
        {
            if (_moduleCacheKey != key) return;
            CopyDirectory(ModuleCache, target);
        }
        // build.sh rebuilds when a source is newer than the assembly: the checkout just wrote every source.
        File.SetLastWriteTimeUtc(Path.Combine(target, "ImagePromotion.dll"), DateTime.UtcNow.AddMinutes(1));
    }

    /// <summary>Keeps the module a job built from <paramref name="commit"/>, for later work directories of the same module sources.</summary>
    public async Task SaveModuleAsync(string workspace, string commit, CancellationToken ct)
    {
        var built = Path.Combine(workspace, ".artifacts", "module");
        if (!File.Exists(Path.Combine(built, "ImagePromotion.dll"))) return;
        var key = await ModuleKeyAsync(commit, ct);
        lock (CacheGate)
        {
            if (_moduleCacheKey == key) return;
            if (Directory.Exists(ModuleCache)) Directory.Delete(ModuleCache, recursive: true);
            CopyDirectory(built, ModuleCache);
            _moduleCacheKey = key;
        }
    }

    /// <summary>The cache key, as a cache action would hash it: the git trees of the module's sources at the commit.</summary>
    private async Task<string> ModuleKeyAsync(string commit, CancellationToken ct) =>
        (await GitAsync(Root, ct, "-C", OriginPath, "rev-parse", $"{commit}:src/ImagePromotion", $"{commit}:Directory.Build.props")).Trim();

    /// <summary>
    /// Runs bash with exactly <paramref name="environment"/> (plus PATH with the shims first): none of this test
    /// process's variables leak into a job. Stdout lines go to <paramref name="onOutput"/> as they come.
    /// </summary>
    public async Task<int> BashAsync(IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment,
        Action<string> onOutput, Action<string> onError, TimeSpan timeout, CancellationToken ct)
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables()) variables[(string)entry.Key] = null;
        foreach (var (key, value) in environment) variables[key] = value;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            var result = await Cli.Wrap("bash").WithArguments(arguments).WithWorkingDirectory(workingDirectory)
                .WithEnvironmentVariables(variables)
                .WithStandardOutputPipe(PipeTarget.ToDelegate(onOutput))
                .WithStandardErrorPipe(PipeTarget.ToDelegate(onError))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(deadline.Token);
            return result.ExitCode;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new RunnerException($"bash {string.Join(' ', arguments)} did not finish within {timeout} (the job's timeout-minutes or the runner's limit)");
        }
    }

    /// <summary>The environment a CI system starts a job with on this machine, before its own variables.</summary>
    public Dictionary<string, string> BaseEnvironment(string jobRoot)
    {
        var home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        var dockerConfig = Directory.CreateDirectory(Path.Combine(jobRoot, "docker-config")).FullName;
        File.WriteAllText(Path.Combine(dockerConfig, "config.json"), "{\"auths\": {}}\n");
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = ShimDirectory + ":" + (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin"),
            // The machine's NuGet and tool caches, so a job restores Cake.Tool offline.
            ["HOME"] = home,
            ["LANG"] = "C.UTF-8",
            ["CI"] = "true",
            // No registry logins of this machine's user: only what the pipeline is given.
            ["DOCKER_CONFIG"] = dockerConfig,
            ["TMPDIR"] = Directory.CreateDirectory(Path.Combine(jobRoot, "tmp")).FullName,
            ["NO_COLOR"] = "1",
        };
        foreach (var name in new[] { "DOTNET_ROOT", "NUGET_PACKAGES", "DOTNET_CLI_HOME" })
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value) env[name] = value;
        foreach (var (key, value) in MachineEnvironment) env[key] = value;
        return env;
    }

    public static async Task<string> GitAsync(string directory, CancellationToken ct, params string[] arguments)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var result = await Cli.Wrap("git").WithArguments(arguments).WithWorkingDirectory(directory)
            .WithEnvironmentVariables(new Dictionary<string, string?>
            {
                ["GIT_AUTHOR_NAME"] = "runner", ["GIT_AUTHOR_EMAIL"] = "runner@example.com",
                ["GIT_COMMITTER_NAME"] = "runner", ["GIT_COMMITTER_EMAIL"] = "runner@example.com",
                ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_TERMINAL_PROMPT"] = "0",
            })
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(ct);
        if (result.ExitCode != 0) throw new RunnerException($"git {string.Join(' ', arguments)} failed in {directory}: {stderr.ToString().Trim()}");
        return stdout.ToString();
    }

    /// <summary>Copies a directory tree; <paramref name="keepTimes"/>: with each file's modification time, as tar keeps it (actions/cache).</summary>
    public static void CopyDirectory(string from, string to, bool keepTimes = false)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            File.Copy(file, target, overwrite: true);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
            if (keepTimes) File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(file));
        }
    }

    private void WriteShims(string registryPassword)
    {
        string? Real(string tool) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
        var log = BuildLogPath;
        // The job or stage a build ran in, as the CI systems name it to the processes of the job.
        const string who = "${GITHUB_JOB:-${CODEBUILD_BUILD_ID:-local}}";
        var buildah = Real("buildah");
        Shim("buildah", $$"""
            case " $* " in *" bud "*|*" build "*) printf '%s\t%s\n' "{{who}}" "buildah $*" >> '{{log}}' ;; esac
            {{(buildah is null ? "echo 'buildah: not installed on this runner' >&2; exit 127" : $"exec '{buildah}' \"$@\"")}}
            """);
        var docker = Real("docker");
        Shim("docker", $$"""
            case " $* " in *" buildx build "*|*" build "*) printf '%s\t%s\n' "{{who}}" "docker $*" >> '{{log}}' ;; esac
            {{(docker is null
                ? "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1"
                : $"exec '{docker}' \"$@\"")}}
            """);
        var passwordFile = Path.Combine(Root, "ecr-password");
        File.WriteAllText(passwordFile, registryPassword);
        Shim("aws", $$"""
            if [ "$1 $2" = "ecr get-login-password" ]; then cat '{{passwordFile}}'; exit 0; fi
            echo "aws (runner): only 'ecr get-login-password' is provided, not: $*" >&2
            exit 2
            """);
    }

    private void Shim(string name, string body)
    {
        var path = Path.Combine(ShimDirectory, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
