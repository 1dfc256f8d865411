// The host: arguments, the typed session built once in Setup, logging through the redactor,
// and Cake's --dryrun honoured by running each phase in plan mode (Cake itself skips task actions).
using System.Threading;
using ImagePromotion;
using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Building;
using ImagePromotion.Pipeline.Model;
using ToolRunner = ImagePromotion.Processes.ProcessRunner;

/// <summary>
/// The module's log in Cake's process. Our lines are written plain to stdout (Cake's renderer would paint every
/// information line bright white where it picks its non-ANSI renderer), filtered by the verbosity the user asked for
/// (<see cref="OutputVerbosity"/>: Cake's own is lowered to hide its banners), above the live progress display while
/// one shows. Warnings stay Cake's. Every line passes the redactor here and the neutralising writer after.
/// </summary>
public sealed class CakeLog : IPipelineLog
{
    private readonly ICakeContext _context;
    public CakeLog(ICakeContext context) { _context = context; }
    public void Information(string message) { if (OutputVerbosity >= Verbosity.Normal) Print(message); }
    public void Verbose(string message) { if (OutputVerbosity >= Verbosity.Verbose) Print(message); }
    // Messages are passed as a format argument: braces in a digest table or a plan must not be read as format items.
    public void Warning(string message) => _context.Log.Write(Verbosity.Quiet, LogLevel.Warning, "{0}", SecretRedactor.Shared.Redact(message));

    private static void Print(string message)
    {
        var text = SecretRedactor.Shared.Redact(message);
        if (Display?.TryWriteLine(text) != true) Console.Out.WriteLine(text);
    }
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
    // Passed by the ready pipelines in .github/workflows and deploy/aws to every target.
    "port-run-id",
    // Which application of a configuration holding several (default: all).
    "application",
    // Status: full digests and references, however wide.
    "wide",
};

// The arguments help lists once, for every target (README.md, "Common arguments", says the same).
static readonly ImagePromotion.CommandLine.ArgumentUsage[] CommonArguments =
{
    new("config", "PATH", "the promotion configuration (default examples/sandbox/promotion.yaml, or promotion.yaml at the repository root, or $PROMOTION_CONFIG)"),
    new("set", "key.path=value", "override one configuration value, e.g. --set environments.production.tag=live (repeatable)"),
    new("commit", "SHA", "the commit to build or promote (default: $GITHUB_SHA, $CODEBUILD_RESOLVED_SOURCE_VERSION or git rev-parse HEAD)"),
    new("application", "NAME", "only this application of a configuration holding several (default: all)"),
    new("artifacts", "DIR", "where plans, summaries and builds are written (default .artifacts)"),
    new("dryrun", null, "every phase prints its plan and writes nothing"),
    new("verbosity", "LEVEL", "quiet, minimal, normal, verbose or diagnostic; secrets are never printed"),
};

// Each phase's own arguments, as declared by Phase(): what help, --description and the unknown-argument message list.
static readonly Dictionary<string, ImagePromotion.CommandLine.ArgumentUsage[]> TargetArguments = new(StringComparer.OrdinalIgnoreCase);

// The target run when --target is not given, as the repository's build.cake passes it to RunPipeline.
static string _defaultTarget;

static readonly Dictionary<string, Func<Task>> PhaseBodies = new(StringComparer.OrdinalIgnoreCase);

public static bool PlanOnly { get; } = Environment.GetCommandLineArgs()
    .Any(a => a is "--dryrun" or "--noop" or "--whatif" || a.StartsWith("--dryrun=") && !a.EndsWith("=false"));

public static PromotionSession Session;
public static IPipelineLog Log;
public static ImagePromotion.Ci.IBuildSystem Ci;
public static ImagePromotion.Port.PortReporter Port;
/// <summary>The digest this run promoted (set once a promotion went through): what Port's catalogue is pointed at.</summary>
public static string PromotedDigest;
public static System.IO.TextWriter RawStdout;
/// <summary>Whether stdout is a terminal that may get escape codes and a live display (decided once, in RunPipeline).</summary>
public static TerminalOutput Terminal;
/// <summary>The verbosity the user asked for; Cake's own log runs at Minimal at normal verbosity so its banners stay out.</summary>
public static Verbosity OutputVerbosity = Verbosity.Normal;
/// <summary>The live progress display of long copies, on a terminal only; null elsewhere.</summary>
public static LiveTransferDisplay Display;

/// <summary>
/// Registers a phase: a Cake task whose body also runs in plan mode under --dryrun. <paramref name="arguments"/>
/// are the phase's own, "name=VALUE" or "name" for a switch; --description and --help list them.
/// </summary>
CakeTaskBuilder Phase(string name, string description, Func<Task> body, params string[] arguments)
{
    PhaseBodies[name] = body;
    return Target(name, description, arguments).Does(async () => await body());
}

/// <summary>A Cake task with its own arguments declared (see <see cref="Phase"/>); for targets that have no plan mode.</summary>
CakeTaskBuilder Target(string name, string description, params string[] arguments)
{
    var usage = arguments.Select(ImagePromotion.CommandLine.ArgumentUsage.Parse).ToArray();
    TargetArguments[name] = usage;
    foreach (var a in usage) KnownArguments.Add(a.Name);
    var text = usage.Length == 0 ? description : $"{description}. Arguments: {string.Join(" ", usage)}";
    return Task(name).Description(text);
}

/// <summary>The digest to promote: --digest=sha256:…, or the digest of --image=REF@sha256:… (the CI pipelines pass the pushed image).</summary>
ImagePromotion.Registry.Digest? RequestedDigest()
{
    var digest = Argument<string>("digest", null);
    if (digest is not null) return ImagePromotion.CommandLine.ArgumentChecks.Digest("digest", digest);
    var image = Argument<string>("image", null);
    if (image is null) return null;
    var reference = ImagePromotion.CommandLine.ArgumentChecks.Reference("image", image);
    return reference.Digest ?? throw new PromotionException($"--image '{image}' has no digest: pass the image pinned as REF@sha256:…, so the exact artifact is promoted");
}

/// <summary>--auto-merge=true|false for this run, or null to follow the configuration.</summary>
bool? AutoMerge() => Argument<string>("auto-merge", null) is { } value ? ImagePromotion.CommandLine.ArgumentChecks.Boolean("auto-merge", value) : null;

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
        foreach (var release in outcome.Releases) Ci.AppendSummary(release.Record.ToMarkdown(Ci.Identity));
        // Always written (empty without a pull request): CodeBuild exports every variable its buildspec lists, and a
        // GitHub job output reads it either way.
        Ci.SetOutput(ImagePromotion.Ci.OutputNames.PullRequestUrl, outcome.Releases.Select(r => r.PullRequestUrl).FirstOrDefault(u => u is not null) ?? "");
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

static string _invocationDirectory;

/// <summary>The directory the user ran ./build.sh from: paths given on the command line are relative to it.</summary>
string InvocationDirectory => _invocationDirectory ??= ImagePromotion.CommandLine.InvocationDirectory.Find(
    ImagePromotion.Ci.BuildSystemDetector.CurrentEnvironment(), RepositoryRoot);

/// <summary>A path given on the command line (or in $PROMOTION_CONFIG), made absolute from <see cref="InvocationDirectory"/>.</summary>
string UserPath(string path) => ImagePromotion.CommandLine.InvocationDirectory.Resolve(InvocationDirectory, path);

/// <summary>The absolute path of --<paramref name="name"/>=PATH, or null when it is not given.</summary>
string PathArgument(string name) => Argument<string>(name, null) is { } path ? UserPath(path) : null;

/// <summary>A path inside the repository, from a relative path written with forward slashes.</summary>
string RepositoryPath(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, relative));

// This repository keeps its sandbox configuration under examples/; a consumer keeps promotion.yaml at its root.
string DefaultConfigPath() => System.IO.File.Exists(RepositoryPath("examples/sandbox/promotion.yaml"))
    ? RepositoryPath("examples/sandbox/promotion.yaml")
    : RepositoryPath("promotion.yaml");

PromotionConfig LoadConfig()
{
    var path = PathArgument("config") ?? (EnvironmentVariable("PROMOTION_CONFIG") is { Length: > 0 } fromEnvironment ? UserPath(fromEnvironment) : DefaultConfigPath());
    var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
    foreach (var item in Arguments<string>("set", Array.Empty<string>()))
    {
        var eq = item.IndexOf('=');
        if (eq <= 0) throw new PromotionException($"--set '{item}' is not of the form key.path=value: write --set environments.production.tag=prod");
        overrides[item[..eq]] = item[(eq + 1)..];
    }
    return ConfigLoader.Load(path, overrides, ImagePromotion.Registry.Auth.CredentialStore.ReadProcessEnvironment());
}

/// <summary>The checkout's commit (git HEAD), as DetectCommit read it; null without git metadata.</summary>
static string CheckoutCommit;

/// <summary>
/// The commit this run is for: the checkout's (git HEAD), because that is what BuildOnce builds. A CI variable
/// naming another commit (GITHUB_SHA in a workflow_run job is the default branch's head, not the checkout) is an
/// error naming both when the run builds or pushes (elsewhere a warning, and the checkout's commit); without git metadata (CodePipeline's CODE_ZIP source) the CI variable is all there is.
/// --commit names the commit explicitly: for a promotion of an earlier build, or a job whose checkout is
/// deliberate (promote-staging.yml passes the triggering run's head_sha); a build of it must be the checkout.
/// </summary>
string DetectCommit(bool builds)
{
    var r = ToolRunner.RunAsync("git", new[] { "rev-parse", "HEAD" }, RepositoryRoot).GetAwaiter().GetResult();
    var checkout = r.ExitCode == 0 && r.Output.Trim() is { Length: > 0 } head ? head : null;
    CheckoutCommit = checkout;
    var given = Argument<string>("commit", null);
    if (!string.IsNullOrEmpty(given))
    {
        // Whether anything is built is known once the registry has been asked: BuildOnce refuses then (SessionOptions.Checkout).
        return given;
    }
    foreach (var name in new[] { "GITHUB_SHA", "CODEBUILD_RESOLVED_SOURCE_VERSION" })
    {
        var named = EnvironmentVariable(name);
        if (string.IsNullOrEmpty(named)) continue;
        if (checkout is null) return named;
        if (!BuildRevision.Matches(checkout, named))
        {
            var message = $"{name}={named} names another commit than the checkout ({checkout}): check out {named}, or pass --commit={checkout} when the checkout is the commit meant (a workflow_run job's head_sha)";
            // A build or a push names its image after the commit: there the mismatch is an error. Elsewhere the
            // checkout's commit is used and the mismatch said.
            if (builds) throw new PromotionException(message);
            Log.Warning(message + "; using the checkout's commit");
        }
        return checkout;
    }
    return checkout;
}

string DetectIdentity()
{
    var ci = EnvironmentVariable("GITHUB_ACTOR") ?? EnvironmentVariable("CODEBUILD_INITIATOR");
    if (!string.IsNullOrEmpty(ci)) return ci;
    var r = ToolRunner.RunAsync("git", new[] { "config", "user.email" }).GetAwaiter().GetResult();
    return r.ExitCode == 0 && r.Output.Trim().Length > 0 ? r.Output.Trim() : (EnvironmentVariable("USER") ?? "unknown");
}

/// <summary>
/// Runs <paramref name="target"/> after checking the command line. <paramref name="defaultTarget"/>, the target
/// build.cake falls back to, is what help and --description name as the default.
/// </summary>
void RunPipeline(string target, string defaultTarget = null)
{
    _defaultTarget = defaultTarget;
    if (defaultTarget is not null && Tasks.FirstOrDefault(t => t.Name == defaultTarget) is CakeTask task)
        task.Description += " (the default target)";
    // The one choke point for the CI log: every line this process prints is neutralised (no workflow command from
    // image, registry, evidence, Git or Port text); only the GitHub Actions provider writes to the raw stdout.
    Terminal = TerminalOutput.Current();
    RawStdout = CommandSafeWriter.Install(stripEscapes: !Terminal.Escapes);
    // Cake's Spectre console (task banners, the report) writes to the stdout it saw at start-up: point it at the
    // neutralising writer, and take its escape codes away where they do not belong.
    Terminal.ConfigureProcessConsole();
    target = CheckTarget(target);
    CheckArgumentNames(target);
    if (target == "Help")
    {
        foreach (var line in HelpLines()) Information("{0}", line);
        return;
    }
    CheckArgumentValues(target);

    Setup(context =>
    {
        Log = new CakeLog(context);
        var environment = ImagePromotion.Ci.BuildSystemDetector.CurrentEnvironment();
        var artifacts = PathArgument("artifacts") ?? RepositoryPath(".artifacts");
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
            // BuildOnce and PushDev build or push only when no --image/--digest names the artifact.
            Commit = DetectCommit(!PinnedByArgument() && context.TasksToExecute.Any(t => t.Name is "BuildOnce" or "PushDev")),
            Checkout = CheckoutCommit,
            Identity = Ci.Name == "local" ? DetectIdentity() : Ci.Identity.ToString(),
            RunUrl = Ci.RunUrl,
            ArtifactsDirectory = artifacts,
        }, Log);
        Log.Verbose($"configuration: {config.Source}");
        if (Terminal.LiveDisplay)
        {
            Display = LiveTransferDisplay.ForProcessConsole();
            Session.Transport.Events.Subscribe(Display);
        }
        if (PlanOnly)
        {
            // Cake runs no task action in a dry run; the plan is each phase run in plan mode, in order.
            Log.Information("dry run: planning every phase, writing nothing");
            foreach (var task in context.TasksToExecute)
                if (PhaseBodies.TryGetValue(task.Name, out var body))
                {
                    Ci.BeginGroup(task.Name);
                    try { body().GetAwaiter().GetResult(); }
                    finally { Ci.EndGroup(); }
                }
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
            // Port's catalogue follows the promotion: the production running service now runs the digest this run
            // promoted, whatever image the caller's entity named.
            var inputs = ImagePromotion.Port.PortActionInputs.FromEnvironment(ImagePromotion.Ci.BuildSystemDetector.CurrentEnvironment());
            if (context.Successful && target == "PromoteProduction" && inputs.ProductionRuntime is { } runtime && PromotedDigest is { } promoted)
                Port.SetRunningServiceImageAsync(runtime, promoted).GetAwaiter().GetResult();
            if (context.Successful) Port.SucceedAsync($"{target} completed", links: Ci?.RunUrl is { } url ? new[] { url } : null).GetAwaiter().GetResult();
            else Port.FailAsync(SecretRedactor.Shared.Redact(context.ThrownException?.Message ?? $"{target} failed")).GetAwaiter().GetResult();
        }
        Display?.Dispose();
        Port?.Dispose();
        Session?.Dispose();
        Ci?.Dispose();
        // At normal verbosity Cake's task table (printed after this) is one more banner: the phases said what they did.
        if (OutputVerbosity == Verbosity.Normal) TerminalOutput.MuteProcessConsole();
    });
    // One header per phase: the build system's group line (TaskSetup). Cake's own banners (a boxed title per task,
    // Setup and Teardown) show from --verbosity=verbose up; at normal verbosity Cake's log runs at Minimal.
    OutputVerbosity = Context.Log.Verbosity;
    if (OutputVerbosity == Verbosity.Normal) Context.Log.Verbosity = Verbosity.Minimal;
    try { RunTarget(target); }
    finally { Context.Log.Verbosity = OutputVerbosity; }
}

void PrintDigestTable()
{
    var rows = Pipeline().StatusAsync(Selection() with { Digest = null, Image = null }, CancellationToken.None).GetAwaiter().GetResult();
    Log.Information("");
    // Fits 100 columns; --wide or --verbosity=diagnostic prints every digest and reference whole.
    foreach (var line in PromotionPipeline.StatusTable(rows, wide: HasArgument("wide") || OutputVerbosity >= Verbosity.Diagnostic)) Log.Information(line);
    var title = string.Join(", ", rows.Select(r => r.Application).Distinct());
    var summary = new ImagePromotion.Ci.PromotionSummary($"{title}: environments").WithRun(Ci.Identity, Ci.RunUrl);
    foreach (var r in rows) summary.AddDigest(r.Image == r.Application ? r.Environment : $"{r.Environment} ({r.Image})", r.Reference, r.Problem ?? r.Digest ?? "(absent)");
    Ci.AppendSummary(summary.ToMarkdown());
}
