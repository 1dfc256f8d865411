// The host: arguments, the typed session built once in Setup, logging through the redactor,
// and Cake's --dryrun honoured by running each phase in plan mode (Cake itself skips task actions).
using System.Threading;
using ImagePromotion;
using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Model;
using ToolRunner = ImagePromotion.Processes.ProcessRunner;

public sealed class CakeLog : IPipelineLog
{
    private readonly ICakeContext _context;
    public CakeLog(ICakeContext context) { _context = context; }
    // Messages are passed as a format argument: braces in a digest table or a plan must not be read as format items.
    public void Information(string message) => _context.Log.Information("{0}", SecretRedactor.Shared.Redact(message));
    public void Verbose(string message) => _context.Log.Verbose("{0}", SecretRedactor.Shared.Redact(message));
    public void Warning(string message) => _context.Log.Warning("{0}", SecretRedactor.Shared.Redact(message));
}

// Every top-level field of the recipe is static: `#load nuget:` analyses a package's .cake files in whatever
// order its installer lists them, so a phase may run its top-level statements before this file's; static
// initialisers run before first use whatever the order, a non-static field would still be null.
// Arguments every target understands, plus those a phase declares; anything else is a typo worth stopping for.
static readonly HashSet<string> KnownArguments = new(StringComparer.OrdinalIgnoreCase)
{
    "target", "config", "verbosity", "v", "dryrun", "noop", "whatif", "commit", "set", "artifacts",
    "exclusive", "e", "description", "tree", "showdescription", "showtree", "debug", "d", "bootstrap",
    "skip-bootstrap", "info", "version", "help", "h", "paths", "nuget_useinprocessclient", "settings_skipverification",
    // Cake settings a consumer of the recipe packages may pass on the command line instead of in cake.config.
    "nuget_source", "nuget_configfile", "nuget_loaddependencies", "paths_tools", "paths_addins", "paths_modules", "settings_enablescriptcache",
    // Passed by the ready pipelines in .github/workflows and deploy/aws.
    "environment", "image", "port-run-id", "auto-merge",
    // Which application of a configuration holding several (default: all).
    "application",
};

static readonly Dictionary<string, Func<Task>> PhaseBodies = new(StringComparer.OrdinalIgnoreCase);

public static bool PlanOnly { get; } = Environment.GetCommandLineArgs()
    .Any(a => a is "--dryrun" or "--noop" or "--whatif" || a.StartsWith("--dryrun=") && !a.EndsWith("=false"));

public static PromotionSession Session;
public static IPipelineLog Log;
public static ImagePromotion.Ci.IBuildSystem Ci;
public static ImagePromotion.Port.PortReporter Port;
public static System.IO.TextWriter RawStdout;

/// <summary>Registers a phase: a Cake task whose body also runs in plan mode under --dryrun.</summary>
CakeTaskBuilder Phase(string name, string description, Func<Task> body, params string[] arguments)
{
    PhaseBodies[name] = body;
    foreach (var a in arguments) KnownArguments.Add(a);
    return Task(name).Description(description).Does(async () => await body());
}

/// <summary>The digest to promote: --digest=sha256:…, or the digest of --image=REF@sha256:… (the CI pipelines pass the pushed image).</summary>
ImagePromotion.Registry.Digest? RequestedDigest()
{
    var digest = Argument<string>("digest", null);
    if (digest is not null) return ImagePromotion.Registry.Digest.Parse(digest);
    var image = Argument<string>("image", null);
    if (image is null) return null;
    var reference = ImagePromotion.Registry.ImageReference.Parse(image);
    return reference.Digest ?? throw new PromotionException($"--image '{image}' has no digest: pass the image pinned as REF@sha256:…, so the exact artifact is promoted");
}

/// <summary>What this run promotes: --application=NAME (default all), and the digest pinned by --digest or --image.</summary>
ReleaseSelection Selection() => new()
{
    Application = Argument<string>("application", null),
    Digest = RequestedDigest(),
    Image = Argument<string>("image", null) is { } image ? ImagePromotion.Registry.ImageReference.Parse(image) : null,
};

/// <summary>True when --image or --digest names the artifact to promote: nothing is built or pushed for it (the CI pipelines pass the pushed image).</summary>
bool PinnedByArgument() => HasArgument("image") || HasArgument("digest");

/// <summary>The phase facade every target calls.</summary>
PromotionPipeline Pipeline() => new PromotionPipeline(Session);

/// <summary>Publishes the promoted image for later CI steps (GitHub outputs, CodeBuild exported variables): the first image of the first release.</summary>
void PublishImage(PhaseResult result)
{
    if (result.Outcome is null) return;
    var release = result.Plan.Releases.FirstOrDefault(r => !r.Refused);
    if (release is null) return;
    var image = release.Images[0];
    var reference = ImagePromotion.Registry.ImageReference.Parse(image.Destination);
    Ci.SetOutput(ImagePromotion.Ci.OutputNames.Image, $"{reference.Name}:{reference.Tag}@{image.Digest}");
    Ci.SetOutput(ImagePromotion.Ci.OutputNames.Digest, image.Digest.ToString());
}

/// <summary>Step outputs and summaries of a promotion, then the one-line error when a gate refused it.</summary>
void ReportPromotion(PhaseResult result)
{
    if (result.Outcome is { } outcome)
    {
        foreach (var release in outcome.Releases)
        {
            if (release.PullRequestUrl is { } url) Ci.SetOutput(ImagePromotion.Ci.OutputNames.PullRequestUrl, url);
            Ci.AppendSummary(release.Record.ToMarkdown(Ci.Identity));
        }
        PublishImage(result);
        outcome.ThrowIfRefused();
    }
}

static string _repositoryRoot;

/// <summary>
/// The repository the pipeline runs for, wherever its build.cake sits: the nearest folder up from Cake's
/// working directory (the script's folder) that holds the .NET tool manifest pinning Cake (.config/dotnet-tools.json,
/// or dotnet-tools.json where `dotnet new tool-manifest` of .NET 10 writes it), else the git
/// top-level, else that folder itself. So the same recipe works from this repository's build/ folder and
/// from a consumer's root, even a consumer nested in another checkout (examples/consumer).
/// </summary>
string RepositoryRoot => _repositoryRoot ??= FindRepositoryRoot(Context.Environment.WorkingDirectory.FullPath);

static string FindRepositoryRoot(string start)
{
    for (var dir = new System.IO.DirectoryInfo(start); dir is not null; dir = dir.Parent)
        if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, ".config", "dotnet-tools.json"))
            || System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "dotnet-tools.json"))) return dir.FullName;
    var git = ToolRunner.RunAsync("git", new[] { "rev-parse", "--show-toplevel" }, start).GetAwaiter().GetResult();
    if (git.ExitCode == 0 && git.Output.Trim() is { Length: > 0 } top && System.IO.Directory.Exists(top)) return System.IO.Path.GetFullPath(top);
    return System.IO.Path.GetFullPath(start);
}

/// <summary>A path inside the repository, from a relative path written with forward slashes.</summary>
string RepositoryPath(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, relative));

// This repository keeps its sandbox configuration under examples/; a consumer keeps promotion.yaml at its root.
string DefaultConfigPath() => System.IO.File.Exists(RepositoryPath("examples/sandbox/promotion.yaml"))
    ? RepositoryPath("examples/sandbox/promotion.yaml")
    : RepositoryPath("promotion.yaml");

PromotionConfig LoadConfig()
{
    var path = Argument<string>("config", null) ?? EnvironmentVariable("PROMOTION_CONFIG") ?? DefaultConfigPath();
    var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
    foreach (var item in Arguments<string>("set", Array.Empty<string>()))
    {
        var eq = item.IndexOf('=');
        if (eq <= 0) throw new PromotionException($"--set '{item}' is not of the form key.path=value: write --set environments.production.tag=prod");
        overrides[item[..eq]] = item[(eq + 1)..];
    }
    return ConfigLoader.Load(path, overrides, ImagePromotion.Registry.Auth.CredentialStore.ReadProcessEnvironment());
}

string DetectCommit()
{
    var given = Argument<string>("commit", null) ?? EnvironmentVariable("GITHUB_SHA") ?? EnvironmentVariable("CODEBUILD_RESOLVED_SOURCE_VERSION");
    if (!string.IsNullOrEmpty(given)) return given;
    var r = ToolRunner.RunAsync("git", new[] { "rev-parse", "HEAD" }, RepositoryRoot).GetAwaiter().GetResult();
    return r.ExitCode == 0 ? r.Output.Trim() : null;
}

string DetectIdentity()
{
    var ci = EnvironmentVariable("GITHUB_ACTOR") ?? EnvironmentVariable("CODEBUILD_INITIATOR");
    if (!string.IsNullOrEmpty(ci)) return ci;
    var r = ToolRunner.RunAsync("git", new[] { "config", "user.email" }).GetAwaiter().GetResult();
    return r.ExitCode == 0 && r.Output.Trim().Length > 0 ? r.Output.Trim() : (EnvironmentVariable("USER") ?? "unknown");
}

void RunPipeline(string target)
{
    // The one choke point for the CI log: every line this process prints is neutralised (no workflow command from
    // image, registry, evidence, Git or Port text); only the GitHub Actions provider writes to the raw stdout.
    RawStdout = CommandSafeWriter.Install();
    foreach (var key in Context.Arguments.GetArguments().Keys)
        if (!KnownArguments.Contains(key))
            throw new PromotionException($"unknown argument '--{key}' for target {target}: see README.md for the arguments each target takes");

    Setup(context =>
    {
        Log = new CakeLog(context);
        var environment = ImagePromotion.Ci.BuildSystemDetector.CurrentEnvironment();
        var artifacts = Argument("artifacts", RepositoryPath(".artifacts"));
        // The build system first: on GitHub Actions every secret registered from now on is masked.
        Ci = ImagePromotion.Ci.BuildSystemDetector.Detect(environment, new ImagePromotion.Ci.BuildSystemOptions
        {
            WorkingDirectory = RepositoryRoot,
            Stdout = RawStdout,
            SummaryFile = System.IO.Path.Combine(artifacts, "summary.md"),
            ExportedVariablesFile = System.IO.Path.Combine(artifacts, "exported-variables.env"),
        });
        Port = ImagePromotion.Port.PortReporter.Create(ImagePromotion.Port.PortOptions.FromEnvironment(environment), Argument<string>("port-run-id", null), Log);
        var config = LoadConfig();
        Session = PromotionSession.Create(config, new SessionOptions
        {
            DryRun = PlanOnly,
            Commit = DetectCommit(),
            Identity = Ci.Name == "local" ? DetectIdentity() : Ci.Identity.ToString(),
            RunUrl = Ci.RunUrl,
            ArtifactsDirectory = artifacts,
        }, Log);
        Log.Verbose($"configuration: {config.Source}");
        if (PlanOnly)
        {
            // Cake runs no task action in a dry run; the plan is each phase run in plan mode, in order.
            Log.Information("dry run: planning every phase, writing nothing");
            foreach (var task in context.TasksToExecute)
                if (PhaseBodies.TryGetValue(task.Name, out var body)) body().GetAwaiter().GetResult();
        }
    });
    TaskSetup(task =>
    {
        Ci?.BeginGroup(task.Task.Name);
        if (Port is not null && Port.ReportsRun) Port.LogAsync($"{task.Task.Name} started").GetAwaiter().GetResult();
    });
    TaskTeardown(task => Ci?.EndGroup());
    Teardown(context =>
    {
        if (Port is not null && Port.ReportsRun)
        {
            // Port's catalogue follows the promotion: the production running service now runs the staging image.
            var inputs = ImagePromotion.Port.PortActionInputs.FromEnvironment(ImagePromotion.Ci.BuildSystemDetector.CurrentEnvironment());
            if (context.Successful && target == "PromoteProduction" && inputs.ProductionRuntime is { } runtime && inputs.SourceImage is { } image)
                Port.SetRunningServiceImageAsync(runtime, image).GetAwaiter().GetResult();
            if (context.Successful) Port.SucceedAsync($"{target} completed", links: Ci?.RunUrl is { } url ? new[] { url } : null).GetAwaiter().GetResult();
            else Port.FailAsync(SecretRedactor.Shared.Redact(context.ThrownException?.Message ?? $"{target} failed")).GetAwaiter().GetResult();
        }
        Port?.Dispose();
        Session?.Dispose();
        Ci?.Dispose();
    });
    RunTarget(target);
}

void PrintDigestTable()
{
    var rows = Pipeline().StatusAsync(Selection() with { Digest = null, Image = null }, CancellationToken.None).GetAwaiter().GetResult();
    Log.Information("");
    foreach (var line in PromotionPipeline.StatusTable(rows)) Log.Information(line);
    var title = string.Join(", ", rows.Select(r => r.Application).Distinct());
    var summary = new ImagePromotion.Ci.PromotionSummary($"{title}: environments").WithRun(Ci.Identity, Ci.RunUrl);
    foreach (var r in rows) summary.AddDigest(r.Image == r.Application ? r.Environment : $"{r.Environment} ({r.Image})", r.Reference, r.Digest ?? "(absent)");
    Ci.AppendSummary(summary.ToMarkdown());
}
