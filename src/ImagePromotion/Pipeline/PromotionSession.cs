using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Pipeline;

/// <summary>What a host knows before the first phase runs.</summary>
public sealed record SessionOptions
{
    public bool DryRun { get; init; }
    /// <summary>The commit being promoted (full or short SHA); read from git when not given.</summary>
    public string? Commit { get; init; }
    /// <summary>Who triggered the run (CI actor or local git user), for records and commits.</summary>
    public string Identity { get; init; } = "unknown";
    /// <summary>A link to the CI run, for pull requests and records.</summary>
    public string? RunUrl { get; init; }
    public string ArtifactsDirectory { get; init; } = ".artifacts";
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
    /// <summary>The phases this invocation runs, so a dry run can plan on what an earlier phase would create.</summary>
    public IReadOnlySet<string> PlannedPhases { get; init; } = new HashSet<string>();
}

/// <summary>
/// The typed context every phase shares: configuration, one transport (one token cache, one connection
/// pool) for the whole run, and the references of each environment resolved for this commit.
/// </summary>
public sealed class PromotionSession : IDisposable
{
    public PromotionConfig Config { get; }
    public SessionOptions Options { get; }
    public IPipelineLog Log { get; }
    public RegistryTransport Transport { get; }
    public ImageCopier Copier { get; }
    /// <summary>The evidence signing keys this job holds (PROMOTION_SIGNING_KEY_&lt;ROLE&gt;), read when first used.</summary>
    public Evidence.Signing.EvidenceSigners Signers { get; }
    public bool DryRun => Options.DryRun;

    private PromotionSession(PromotionConfig config, SessionOptions options, IPipelineLog log, RegistryTransport transport, IReadOnlyDictionary<string, string?> environment)
    {
        Config = config; Options = options; Log = log; Transport = transport;
        Copier = new ImageCopier(transport, log);
        Signers = new Evidence.Signing.EvidenceSigners(environment);
    }

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
        var transport = new RegistryTransport(new TransportOptions
        {
            InsecureRegistries = insecure,
            CaBundles = caBundles,
        }, credentials);
        return new PromotionSession(config, options, log, transport, environment);
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

    public ImageReference Reference(EnvironmentSettings environment)
    {
        var host = Config.RegistryOf(environment).Host;
        var tag = environment.Tag.Contains("{commit}") ? environment.Tag.Replace("{commit}", CommitTag) : environment.Tag;
        return ImageReference.Parse($"{host}/{environment.Repository}:{tag}");
    }

    public RegistryClient Client(EnvironmentSettings environment) => Copier.Client(Config.RegistryOf(environment).Host);

    public string ArtifactsDirectory => Path.GetFullPath(Options.ArtifactsDirectory);

    /// <summary>True in a dry run that also plans <paramref name="phase"/>, whose writes the later phases would see.</summary>
    public bool PlansEarlier(string phase) => DryRun && Options.PlannedPhases.Contains(phase);

    private readonly HashSet<string> _plannedChanges = new(StringComparer.Ordinal);

    /// <summary>Notes, in a dry run, that an environment would point at a new digest by the end of this phase.</summary>
    public void PlanChange(string environment) { if (DryRun) lock (_plannedChanges) _plannedChanges.Add(environment); }

    /// <summary>True when an earlier phase of this dry run would change what <paramref name="environment"/> holds.</summary>
    public bool ChangesEarlier(string environment) { lock (_plannedChanges) return DryRun && _plannedChanges.Contains(environment); }

    public void Dispose()
    {
        Transport.Dispose();
        Signers.Dispose();
    }
}
