using System.Globalization;

namespace ImagePromotion.Bench;

/// <summary>
/// The scenarios that run <c>./build.sh --target=PromoteStaging</c> as a user or CI job does (issue 14):
/// S8 warm on this checkout, S10 a CI job in a fresh clone with and without the caches a shipped workflow
/// restores. The commit's image is already in dev, so BuildOnce and PushDev find it and skip, and every
/// run is a real retag to a staging tag of its own. skopeo's side is the same retag: installed on CI images,
/// it has nothing to start, build or restore.
/// </summary>
public sealed class BuildScriptScenarios(BenchContext ctx)
{
    private const long MiB = 1024 * 1024;
    private const string Commit = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";
    /// <summary>A job from a fresh clone with the workflow's caches restored, and the same job with none.</summary>
    public static readonly Mode CacheRestored = new("cache restored", TimeSpan.Zero);
    public static readonly Mode NoCache = new("no cache", TimeSpan.Zero);

    private readonly bool _quick = ctx.Quick;
    private bool _pushed;
    private int Runs(int full) => _quick ? Math.Min(full, 2) : full;

    private async Task PushCommitImageAsync(BenchContext c, CancellationToken ct)
    {
        if (_pushed) return;
        await c.Images.PushImageAsync(c.A.Host, "team/sample-app", "git-" + Commit[..12],
            [await c.Images.CreateLayerAsync(MiB, ct), await c.Images.CreateLayerAsync(MiB, ct)], "amd64", ct);
        _pushed = true;
    }

    /// <summary>
    /// S8 as the repository ships it: after a warm-up run, Cake's script cache, the module and (where
    /// build.sh makes one) the ReadyToRun copy of Cake are in place.
    /// </summary>
    public Scenario S8() => new()
    {
        Id = "S8", Title = "`./build.sh --target=PromoteStaging` warm, end to end (skopeo: the same retag)",
        Target = "≤ 1.5 s wall on loopback", Runs = Runs(5),
        Setup = PushCommitImageAsync,
        Warmup = (c, mode) => [BuildSh(c, c.RepoRoot, mode, "warmup-" + Tag(mode), null)],
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours ? BuildSh(c, c.RepoRoot, mode, $"o-{Tag(mode)}-{i}", null) : SkopeoRetag(c, mode, $"s-{Tag(mode)}-{i}"),
        ],
        Check = f =>
        {
            var s = f.Ours[Mode.Loopback.Name].MedianSeconds;
            return new Verdict(s <= 1.5, $"{s:0.00} s");
        },
    };

    /// <summary>S8 with the ReadyToRun copy of Cake turned off: what a machine without it (a CI job) pays.</summary>
    public Scenario S8Plain() => new()
    {
        Id = "S8p", Title = "S8 with Cake run as shipped (`IMAGE_PROMOTION_CAKE_R2R=false`), for comparison",
        Target = "none (shows what the ReadyToRun copy of Cake saves)", Runs = Runs(5), Modes = [Mode.Loopback],
        Setup = PushCommitImageAsync,
        Warmup = (c, mode) => [BuildSh(c, c.RepoRoot, mode, "warmup-p", new() { ["IMAGE_PROMOTION_CAKE_R2R"] = "false" })],
        Commands = (c, mode, side, i) =>
        [
            side == Side.Ours
                ? BuildSh(c, c.RepoRoot, mode, $"op-{i}", new() { ["IMAGE_PROMOTION_CAKE_R2R"] = "false" })
                : SkopeoRetag(c, mode, $"sp-{i}"),
        ],
        Check = f => new Verdict(true, $"{f.Ours[Mode.Loopback.Name].MedianSeconds:0.00} s"),
    };

    private string _s10 = "";
    private string _revision = "";
    private string? _lastNoCacheRun;
    private string _nugetArchive = "";
    private string _repositoryArchive = "";

    /// <summary>
    /// S10: a CI job (CI=true) in a fresh clone of this checkout's HEAD. "no cache": empty NuGet global
    /// packages and HTTP cache folders, no .artifacts, so the job restores Cake.Tool and the module's
    /// packages from the configured NuGet source and compiles module and script. "cache restored": the
    /// paths the shipped workflows cache (<see cref="CiCache"/>), saved from the last no-cache job as tar
    /// files and extracted before build.sh runs; the extraction is part of the measured time.
    /// </summary>
    public Scenario S10() => new()
    {
        Id = "S10", Title = "a cold CI job: fresh clone, `CI=true ./build.sh --target=PromoteStaging` (skopeo: the same retag)",
        Target = "≤ 8 s with the workflow's caches restored, ≤ 25 s with none", Runs = Runs(3),
        Modes = [NoCache, CacheRestored],
        Setup = async (c, ct) =>
        {
            await PushCommitImageAsync(c, ct);
            _s10 = Directory.CreateDirectory(Path.Combine(c.WorkDirectory, "s10")).FullName;
            _revision = (await TimedProcess.RunCheckedAsync("git", ["rev-parse", "HEAD"], ct, c.RepoRoot)).Trim();
        },
        BeforeRun = async (c, mode, side, i) =>
        {
            if (side != Side.Ours) return;
            if (mode == CacheRestored && _nugetArchive.Length == 0) await SaveCachesAsync();
            foreach (var old in Directory.EnumerateDirectories(_s10, "run-*").Where(d => d != _lastNoCacheRun)) Directory.Delete(old, recursive: true);
            var run = Directory.CreateDirectory(RunDirectory(mode, i)).FullName;
            foreach (var dir in new[] { "nuget", "nuget-http", "xdg-cache", "dotnet-home" }) Directory.CreateDirectory(Path.Combine(run, dir));
            await TimedProcess.RunCheckedAsync("git", ["clone", "-q", "--no-checkout", c.RepoRoot, Path.Combine(run, "repo")], CancellationToken.None);
            await TimedProcess.RunCheckedAsync("git", ["-C", Path.Combine(run, "repo"), "checkout", "-q", _revision], CancellationToken.None);
            if (mode == NoCache) _lastNoCacheRun = run;
        },
        Commands = (c, mode, side, i) =>
        {
            if (side == Side.Skopeo) return [SkopeoRetag(c, Mode.Loopback, $"s10-{Tag(mode)}-{i}")];
            var run = RunDirectory(mode, i);
            var build = BuildSh(c, Path.Combine(run, "repo"), Mode.Loopback, $"o10-{Tag(mode)}-{i}", CiEnvironment(run));
            return mode == NoCache ? [build] :
            [
                new Command(["tar", "-xf", _nugetArchive, "-C", Path.Combine(run, "nuget")]),
                new Command(["tar", "-xf", _repositoryArchive, "-C", Path.Combine(run, "repo")]),
                build,
            ];
        },
        AfterRun = (c, mode, side, i, timings) =>
        {
            if (side != Side.Ours) return null;
            var run = RunDirectory(mode, i);
            var nuget = DirectorySize(Path.Combine(run, "nuget")) / (double)MiB;
            var rebuilt = timings[^1].Output.Contains("building the pipeline module", StringComparison.Ordinal);
            return mode == NoCache
                ? $"NuGet folder after the job {nuget:0} MiB; module built {(rebuilt ? "plain (no runtime packs)" : "?")}"
                : $"restore {timings.Take(timings.Count - 1).Sum(t => t.Seconds):0.00} s + build.sh {timings[^1].Seconds:0.00} s; module {(rebuilt ? "REBUILT" : "from the cache")}";
        },
        Check = f =>
        {
            var cold = f.Ours[CacheRestored.Name].MedianSeconds;
            var none = f.Ours[NoCache.Name].MedianSeconds;
            return new Verdict(cold <= 8 && none <= 25, $"cache restored {cold:0.0} s, no cache {none:0.0} s");
        },
    };

    private string RunDirectory(Mode mode, int i) => Path.Combine(_s10, $"run-{(mode == NoCache ? "nocache" : "cached")}-{i}");

    /// <summary>
    /// What a CI runner without caches has: CI=true, NuGet folders, XDG cache and .NET CLI home of the run's
    /// own. The CLI home matters: the SDK remembers where it restored a local tool (~/.dotnet/toolResolverCache)
    /// and `dotnet tool restore` then restores nothing into a new NUGET_PACKAGES (dotnet/sdk#20043).
    /// </summary>
    private static Dictionary<string, string> CiEnvironment(string run) => new()
    {
        ["CI"] = "true",
        ["DOTNET_CLI_HOME"] = Path.Combine(run, "dotnet-home"),
        ["NUGET_PACKAGES"] = Path.Combine(run, "nuget"),
        ["NUGET_HTTP_CACHE_PATH"] = Path.Combine(run, "nuget-http"),
        ["XDG_CACHE_HOME"] = Path.Combine(run, "xdg-cache"),
    };

    /// <summary>Saves the paths of <see cref="CiCache"/> from the last no-cache job, as actions/cache saves them (tar).</summary>
    private async Task SaveCachesAsync()
    {
        var run = _lastNoCacheRun ?? throw new InvalidOperationException("S10: no no-cache job ran before the cache-restored ones");
        _nugetArchive = Path.Combine(_s10, "cache-nuget.tar");
        _repositoryArchive = Path.Combine(_s10, "cache-repository.tar");
        await TimedProcess.RunCheckedAsync("tar", ["-cf", _nugetArchive, "-C", Path.Combine(run, "nuget"), "."], CancellationToken.None);
        await TimedProcess.RunCheckedAsync("tar", ["-cf", _repositoryArchive, "-C", Path.Combine(run, "repo"), .. CiCache.RepositoryPaths], CancellationToken.None);
        Directory.Delete(run, recursive: true);
        _lastNoCacheRun = null;
    }

    private static long DirectorySize(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private static string Tag(Mode mode) => mode.Name.Replace(' ', '-');

    private Command SkopeoRetag(BenchContext c, Mode mode, string tag) =>
        c.Skopeo($"{c.HostA(mode)}/team/sample-app:git-{Commit[..12]}", $"{c.HostA(mode)}/team/sample-app:staging-{tag}", c.SharedSkopeoCache);

    private static Command BuildSh(BenchContext c, string repository, Mode mode, string tag, Dictionary<string, string>? environment)
    {
        var path = Path.Combine(c.WorkDirectory, $"promotion-{(mode.Proxied ? "latency" : "loopback")}.yaml");
        File.WriteAllText(path, string.Format(CultureInfo.InvariantCulture, """
            service: sample-app
            build: {{ context: {0}, containerfile: Containerfile, builder: auto }}
            registries:
              dev:  {{ host: "{1}", insecure: true }}
              prod: {{ host: "{2}", insecure: true }}
            environments:
              dev:        {{ registry: dev,  repository: team/sample-app, tag: "git-{{commit}}", tagMayMove: false }}
              staging:    {{ registry: dev,  repository: team/sample-app, tag: staging }}
              production: {{ registry: prod, repository: team/sample-app, tag: production }}
            release: {{ environment: production, tagPrefix: release- }}

            """, Path.Combine(c.RepoRoot, "examples", "sample-app"), c.HostA(mode), c.HostB(mode)));
        var env = new Dictionary<string, string>(environment ?? new()) { ["PROMOTION__environments__staging__tag"] = "staging-" + tag };
        return new Command([Path.Combine(repository, "build.sh"), "--target=PromoteStaging", $"--config={path}", $"--commit={Commit}"], env, repository);
    }
}

/// <summary>
/// The paths a CI job caches between runs (README, "Benchmark" and "Run it in CI"): NuGet's global
/// packages folder, and inside the clone the built module and Cake's compiled-script cache.
/// </summary>
public static class CiCache
{
    public static readonly string[] RepositoryPaths = [".artifacts/module", "build/.cake-cache"];
}
