using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.GitOps.PullRequests;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Processes;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Profiles;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Pipeline;

/// <summary>What a host knows before the first phase runs.</summary>
public sealed record SessionOptions
{
    /// <summary>Plan only: every phase prints its plan and writes nothing to registries or Git.</summary>
    public bool DryRun { get; init; }
    /// <summary>The commit being promoted (full or short SHA); read from git when not given.</summary>
    public string? Commit { get; init; }
    /// <summary>
    /// The commit the working tree holds (git HEAD, full SHA), when known. A build is of the checkout, so a build
    /// planned for another <see cref="Commit"/> is refused; promoting another commit's existing build is not.
    /// </summary>
    public string? Checkout { get; init; }
    /// <summary>Who triggered the run (CI actor or local git user), for records and commits.</summary>
    public string Identity { get; init; } = "unknown";
    /// <summary>A link to the CI run, for pull requests and records.</summary>
    public string? RunUrl { get; init; }
    /// <summary>Where plans, records, layouts and GitOps clones go.</summary>
    public string ArtifactsDirectory { get; init; } = ".artifacts";
    /// <summary>The process environment to read variables from; null: this process's (tests pass their own).</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
}

/// <summary>
/// The typed context every phase shares: configuration, one transport (one token cache, one connection
/// pool) for the whole run, one GitHub client per GitOps repository, the references of each application ×
/// image × environment resolved for this commit, and (in a dry run) the state earlier phases planned.
/// </summary>
public sealed class PromotionSession : IDisposable
{
    /// <summary>The loaded configuration.</summary>
    public PromotionConfig Config { get; }
    /// <summary>What the host passed in.</summary>
    public SessionOptions Options { get; }
    /// <summary>Where messages go (already redacting secrets in the hosts).</summary>
    public IPipelineLog Log { get; }
    /// <summary>The one registry transport of the run.</summary>
    public RegistryTransport Transport { get; }
    /// <summary>The copy engine over <see cref="Transport"/>.</summary>
    public ImageCopier Copier { get; }
    /// <summary>The evidence signing keys this job holds (PROMOTION_SIGNING_KEY_&lt;ROLE&gt;), read when first used.</summary>
    public Evidence.Signing.EvidenceSigners Signers { get; }
    /// <summary>True in a dry run.</summary>
    public bool DryRun => Options.DryRun;
    /// <summary>What the phases of this run planned so far: a dry run plans each phase on the earlier ones' outcome.</summary>
    public PlannedState Planned { get; } = new();
    /// <summary>The plans of this run (with what was done), as <see cref="PromotionPipeline"/> writes them to plan.json.</summary>
    internal List<object> PlanJournal { get; } = [];

    private PromotionSession(PromotionConfig config, SessionOptions options, IPipelineLog log, RegistryTransport transport, IReadOnlyDictionary<string, string?> environment)
    {
        Config = config; Options = options; Log = log; Transport = transport;
        Copier = new ImageCopier(transport, log);
        Signers = new Evidence.Signing.EvidenceSigners(environment,
            keysDirectory: config.Sandbox?.Keys is { } keys ? config.ResolvePath(keys) : null);
        _environment = environment;
    }

    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly Dictionary<string, Evidence.TrustedKeys> _trust = new(StringComparer.Ordinal);

    /// <summary>
    /// The public keys <paramref name="environment"/>'s gates trust, per kind of evidence (its <c>trust:</c> section),
    /// read once per run; <see cref="Evidence.TrustedKeys.None"/> when it has none, so no evidence counts there.
    /// </summary>
    public Evidence.TrustedKeys TrustFor(string environment)
    {
        lock (_trust)
        {
            if (_trust.TryGetValue(environment, out var known)) return known;
            var settings = Config.TrustOf(environment);
            var keys = settings is null ? Evidence.TrustedKeys.None : settings.Load(Config.Source, Config.BaseDirectory, _environment);
            _trust[environment] = keys;
            return keys;
        }
    }

    /// <summary>A session over <paramref name="config"/>: credentials from the named variables, the environment and Docker's config.</summary>
    public static PromotionSession Create(PromotionConfig config, SessionOptions options, IPipelineLog log)
    {
        var environment = options.Environment ?? CredentialStore.ReadProcessEnvironment();
        var credentials = new CredentialStore(environment);
        foreach (var registry in config.Registries.Values)
        {
            if (registry.UsernameEnv is null && registry.PasswordEnv is null) continue;
            var user = registry.UsernameEnv is { } u ? environment.GetValueOrDefault(u) : null;
            var pass = registry.PasswordEnv is { } p ? environment.GetValueOrDefault(p) : null;
            if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(pass))
            {
                // Named but unset: fall through to the other sources, and say so only at verbose level.
                log.Verbose($"registry {registry.Name}: {registry.UsernameEnv}/{registry.PasswordEnv} not set; using the environment or Docker config");
                continue;
            }
            credentials.SetExplicit(registry.Host, new RegistryCredential(user, pass, $"environment variables {registry.UsernameEnv}/{registry.PasswordEnv}"));
        }
        var insecure = config.Registries.Values.Where(r => r.Insecure).Select(r => r.Host).ToHashSet(StringComparer.OrdinalIgnoreCase);
        // Each registry's CA bundle vouches for that registry only.
        var caBundles = config.Registries.Values.Where(r => r.CaBundle is not null).GroupBy(r => r.Host, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => config.ResolvePath(g.First().CaBundle!), StringComparer.OrdinalIgnoreCase);
        // A family or timeout named for a registry applies to the host its requests go to (Docker Hub's API host for docker.io).
        var families = config.Registries.Values.Where(r => r.Family is not null).GroupBy(r => r.Host, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Family!, StringComparer.OrdinalIgnoreCase);
        var timeouts = config.Registries.Values.Where(r => r.Timeout is not null).GroupBy(r => RegistryProfiles.ApiHost(r.Host), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Min(r => r.Timeout!.Value), StringComparer.OrdinalIgnoreCase);
        var transport = new RegistryTransport(new TransportOptions
        {
            InsecureRegistries = insecure,
            CaBundles = caBundles,
            Families = families,
            Timeouts = timeouts,
        }, credentials);
        var session = new PromotionSession(config, options, log, transport, environment);
        // plan.json describes this run only: a run that plans nothing must not leave an earlier run's plans behind.
        var plans = Path.Combine(session.ArtifactsDirectory, PromotionPipeline.PlanFile);
        if (File.Exists(plans)) File.Delete(plans);
        return session;
    }

    /// <summary>The commit tag: 12 hex digits of the commit, which is how BuildOnce and PushDev name the build.</summary>
    public string CommitTag
    {
        get
        {
            var commit = Options.Commit;
            if (string.IsNullOrWhiteSpace(commit))
                throw new PromotionException("no commit known: run inside a git checkout, or pass --commit=SHA");
            if (!System.Text.RegularExpressions.Regex.IsMatch(commit, "^[0-9a-fA-F]{7,64}$"))
                throw new PromotionException($"--commit '{commit}' is not a git commit SHA: pass 7 to 40 hex digits");
            return commit.Length > 12 ? commit[..12].ToLowerInvariant() : commit.ToLowerInvariant();
        }
    }

    /// <summary>Where <paramref name="image"/> of <paramref name="application"/> lives in <paramref name="environment"/>: placeholders resolved for this run.</summary>
    public ImageReference Reference(ApplicationSettings application, ImageSettings image, EnvironmentSettings environment)
    {
        var host = Config.RegistryOf(environment).Host;
        string Expand(string template) => Templates.Expand(template, template.Contains("{commit}", StringComparison.Ordinal) ? CommitTag : null, application.Name, image.Name);
        return ImageReference.Parse($"{host}/{Expand(environment.Repository)}:{Expand(environment.Tag)}");
    }

    /// <summary>The client of the registry <paramref name="environment"/> lives in.</summary>
    public RegistryClient Client(EnvironmentSettings environment) => Copier.Client(Config.RegistryOf(environment).Host);

    /// <summary>The artifacts directory, absolute.</summary>
    public string ArtifactsDirectory => Path.GetFullPath(Options.ArtifactsDirectory);

    /// <summary>A variable of the run's environment (tests pass their own), null when unset or empty.</summary>
    public string? Variable(string name) =>
        (Options.Environment ?? CredentialStore.ReadProcessEnvironment()).GetValueOrDefault(name) is { Length: > 0 } v ? v : null;

    private Task<string?>? _branch;

    /// <summary>The branch being built: the CI's variables first, else the checkout's current branch; null when detached. Read once per run.</summary>
    public Task<string?> BranchAsync(CancellationToken ct) => _branch ??= ReadBranchAsync(ct);

    private async Task<string?> ReadBranchAsync(CancellationToken ct)
    {
        foreach (var name in new[] { "PROMOTION_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CODEBUILD_WEBHOOK_HEAD_REF" })
            if (Variable(name) is { } value)
                return value.StartsWith("refs/heads/", StringComparison.Ordinal) ? value["refs/heads/".Length..] : value;
        if (Options.Environment is not null) return null; // a given environment is the whole truth (tests)
        var r = await ProcessRunner.RunAsync("git", ["rev-parse", "--abbrev-ref", "HEAD"], Config.BaseDirectory, ct: ct).ConfigureAwait(false);
        var branch = r.ExitCode == 0 ? r.Output.Trim() : null;
        return branch is null or "HEAD" or "" ? null : branch;
    }

    private readonly Dictionary<string, GitHubPullRequests> _pullRequests = new(StringComparer.Ordinal);

    /// <summary>
    /// The GitHub client for a GitOps repository's pull requests, built once per run: opening the pull request,
    /// reading its reviews and merging it all go through the same client.
    /// </summary>
    public GitHubPullRequests PullRequests(GitHubSettings github, string purpose)
    {
        var key = $"{github.BaseUrl}|{github.Owner}/{github.Repository}|{github.TokenEnv}";
        lock (_pullRequests)
        {
            if (_pullRequests.TryGetValue(key, out var existing)) return existing;
            var token = Variable(github.TokenEnv)
                ?? throw new PromotionException($"{github.TokenEnv} is not set: {purpose} on {github.Owner}/{github.Repository}; export a token with pull-request and contents write access");
            var client = new GitHubPullRequests(new GitHubRepositoryOptions(github.Owner, github.Repository, token,
                github.BaseUrl == "https://api.github.com" ? null : github.BaseUrl), Log);
            _pullRequests[key] = client;
            return client;
        }
    }

    /// <summary>Releases the transport and the signing keys.</summary>
    public void Dispose()
    {
        Transport.Dispose();
        Signers.Dispose();
    }
}
