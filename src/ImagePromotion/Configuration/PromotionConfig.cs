namespace ImagePromotion.Configuration;

/// <summary>
/// The promotion configuration: applications and their images, registries, the environment graph, named
/// policies and where they apply. Today's single-service file (<c>service:</c> + <c>build:</c>) is read as one
/// application holding one image of the same name.
/// </summary>
public sealed record PromotionConfig
{
    /// <summary>The file it was read from, for messages.</summary>
    public required string Source { get; init; }
    /// <summary>Directory relative paths are resolved against (the file's directory).</summary>
    public required string BaseDirectory { get; init; }
    /// <summary>The applications, in file order; each promotes its images as one release.</summary>
    public required IReadOnlyList<ApplicationSettings> Applications { get; init; }
    /// <summary>The registries by name.</summary>
    public required IReadOnlyDictionary<string, RegistrySettings> Registries { get; init; }
    /// <summary>The environments, each after the one it comes <c>from:</c>; the first is where builds are pushed.</summary>
    public required IReadOnlyList<EnvironmentSettings> Environments { get; init; }
    /// <summary>Where release tags go.</summary>
    public required ReleaseSettings Release { get; init; }
    /// <summary>Named policies (<c>policies:</c>).</summary>
    public IReadOnlyDictionary<string, GateSettings> Policies { get; init; } = new Dictionary<string, GateSettings>();
    /// <summary>Which policy applies to which application × environment (<c>apply:</c>).</summary>
    public IReadOnlyList<PolicyApplication> Apply { get; init; } = [];
    /// <summary>The local sandbox's registries, when configured.</summary>
    public SandboxSettings? Sandbox { get; init; }
    /// <summary>The top-level <c>trust:</c> section: the keys of every environment that has no <c>trust:</c> of its own; null: none.</summary>
    public TrustSettings? Trust { get; init; }
    /// <summary>The trust that applies to <paramref name="environment"/>: its own section, else the top-level one; null: none.</summary>
    public TrustSettings? TrustOf(string environment) => Environment(environment).Trust ?? Trust;
    /// <summary>The <c>scan:</c> section; null runs the built-in checks and every installed scanner.</summary>
    public ScanSettings? Scan { get; init; }
    /// <summary>The gates per application and environment, merged once at load (environment gates + applied policy).</summary>
    public IReadOnlyDictionary<(string Application, string Environment), GateSettings> EffectiveGates { get; init; } =
        new Dictionary<(string, string), GateSettings>();

    /// <summary>The environment named <paramref name="name"/>; a one-line error listing the names otherwise.</summary>
    public EnvironmentSettings Environment(string name) =>
        Environments.FirstOrDefault(e => e.Name == name)
        ?? throw new PromotionException($"{Source}: no environment named '{name}' (have: {string.Join(", ", Environments.Select(e => e.Name))}): add it under environments");

    /// <summary>The application named <paramref name="name"/>; a one-line error listing the names otherwise.</summary>
    public ApplicationSettings Application(string name) =>
        Applications.FirstOrDefault(a => a.Name == name)
        ?? throw new PromotionException($"{Source}: no application named '{name}' (have: {string.Join(", ", Applications.Select(a => a.Name))}): pass --application=NAME of one of them");

    /// <summary>The first environment: where BuildOnce/PushDev put the build.</summary>
    public EnvironmentSettings First => Environments[0];

    /// <summary>The environment <paramref name="environment"/> is promoted from; null for the first.</summary>
    public EnvironmentSettings? Upstream(EnvironmentSettings environment) => environment.From is { } from ? Environment(from) : null;

    /// <summary>The environments from the first to <paramref name="environment"/>, following <c>from:</c>.</summary>
    public IReadOnlyList<string> Chain(EnvironmentSettings environment)
    {
        var chain = new List<string>();
        for (var e = environment; e is not null; e = Upstream(e)) chain.Insert(0, e.Name);
        return chain;
    }

    /// <summary>The environments a name stands for: the environment of that name, or every environment of that group.</summary>
    public IReadOnlyList<EnvironmentSettings> Targets(string environmentOrGroup)
    {
        var found = Environments.Where(e => e.Name == environmentOrGroup || e.Group == environmentOrGroup).ToArray();
        return found.Length > 0 ? found
            : throw new PromotionException($"{Source}: no environment or group named '{environmentOrGroup}' (environments: {string.Join(", ", Environments.Select(e => e.Name))}; groups: {string.Join(", ", Environments.Select(e => e.Group).OfType<string>().Distinct().DefaultIfEmpty("none"))})");
    }

    /// <summary>The gates <paramref name="application"/> passes into <paramref name="environment"/>; null when none are configured.</summary>
    public GateSettings? GatesFor(string application, string environment) =>
        EffectiveGates.TryGetValue((application, environment), out var gates) ? gates : null;

    /// <summary>The registry an environment lives in.</summary>
    public RegistrySettings RegistryOf(EnvironmentSettings environment) => Registries[environment.Registry];

    /// <summary>A path of the file resolved against its directory.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(Path.Combine(BaseDirectory, path));
}

/// <summary>An application: images built and promoted together, as one release (Kargo's freight).</summary>
/// <param name="Name">The application's name (<c>{application}</c> in repositories and tags).</param>
/// <param name="Images">Its images, in file order; never empty.</param>
public sealed record ApplicationSettings(string Name, IReadOnlyList<ImageSettings> Images)
{
    /// <summary>The image named <paramref name="name"/>.</summary>
    public ImageSettings Image(string name) => Images.FirstOrDefault(i => i.Name == name)
        ?? throw new PromotionException($"application '{Name}' has no image '{name}' (have: {string.Join(", ", Images.Select(i => i.Name))})");
}

/// <summary>One image of an application and how BuildOnce builds it.</summary>
/// <param name="Name">The image's name (<c>{image}</c> in repositories and tags).</param>
/// <param name="Build">Its build context, containerfile, builder and platform.</param>
public sealed record ImageSettings(string Name, BuildSettings Build);

/// <summary>How an image is built.</summary>
/// <param name="Context">The build context, relative to the configuration file.</param>
/// <param name="Containerfile">The containerfile inside the context.</param>
/// <param name="Builder">auto (docker buildx when an engine answers, else buildah), buildah or docker.</param>
/// <param name="Platform">A platform such as linux/amd64; empty: the builder's default.</param>
public sealed record BuildSettings(string Context, string Containerfile, string Builder, string Platform);

/// <summary>A registry by name: host, transport and where its credentials come from.</summary>
public sealed record RegistrySettings(string Name, string Host, bool Insecure, string? CaBundle, string? UsernameEnv, string? PasswordEnv)
{
    /// <summary>The registry family (<c>harbor</c>, <c>pulp</c>, … from the profile table) when the host name cannot tell it; null: by host name.</summary>
    public string? Family { get; init; }
    /// <summary>How long one request waits for the registry's answer before it fails naming the registry (and is retried); null: 120 s.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// Where an environment's images live. <see cref="Repository"/> and <see cref="Tag"/> may hold <c>{commit}</c>,
/// <c>{image}</c> and <c>{application}</c>. <see cref="TagMayMove"/> false makes the tag immutable: once it points
/// at a digest, pointing it elsewhere is refused.
/// </summary>
public sealed record EnvironmentSettings(string Name, string Registry, string Repository, string Tag, bool TagMayMove)
{
    /// <summary>The environment releases come from; null only for the first (default: the one before it in the file).</summary>
    public string? From { get; init; }
    /// <summary>A group name: promoting into the group promotes into each of its environments, each with its own gates.</summary>
    public string? Group { get; init; }
    /// <summary>The GitOps manifests updated after a promotion; null: none.</summary>
    public GitOpsSettings? GitOps { get; init; }
    /// <summary>The environment's own gates; null: none (a policy may still apply).</summary>
    public GateSettings? Gates { get; init; }
    /// <summary>The public keys this environment's gates trust, per kind of evidence; null: none (no evidence counts).</summary>
    public TrustSettings? Trust { get; init; }
}

/// <summary>An environment's <c>gitops:</c> section. Manifests, container and path may hold <c>{image}</c> and <c>{application}</c>.</summary>
public sealed record GitOpsSettings
{
    /// <summary>A local path or a git URL of the GitOps repository.</summary>
    public required string Repository { get; init; }
    /// <summary>The branch the cluster follows.</summary>
    public string BaseBranch { get; init; } = "main";
    /// <summary>Manifest paths inside the repository.</summary>
    public required IReadOnlyList<string> Manifests { get; init; }
    /// <summary>The container whose image is set (by name); null: chosen by image repository.</summary>
    public string? Container { get; init; }
    /// <summary>An explicit YAML path to the image value instead of a container.</summary>
    public string? Path { get; init; }
    /// <summary>
    /// The manifests are Helm values: where the image mapping is and which keys hold its parts (the settings of
    /// UpdateManifest's <c>--helm</c>); keys may hold <c>{image}</c> and <c>{application}</c>. Null: not Helm values.
    /// </summary>
    public GitOps.Manifests.HelmValuesTarget? Helm { get; init; }
    /// <summary>pull-request (branch + PR) or direct (push to the base branch).</summary>
    public string Mode { get; init; } = "pull-request";
    /// <summary>Write <c>repo:tag@sha256:…</c> rather than <c>repo:tag</c>.</summary>
    public bool PinDigest { get; init; } = true;
    /// <summary>The pull request settings; null: a branch only.</summary>
    public GitHubSettings? GitHub { get; init; }
}

/// <summary>Where and how the promotion pull request is opened.</summary>
public sealed record GitHubSettings(string Owner, string Repository, string BaseUrl, string TokenEnv, bool AutoMerge, string MergeMethod)
{
    /// <summary>Labels added to the pull request.</summary>
    public IReadOnlyList<string> Labels { get; init; } = Array.Empty<string>();
    /// <summary>Reviewers requested.</summary>
    public IReadOnlyList<string> Reviewers { get; init; } = Array.Empty<string>();
    /// <summary>Assignees.</summary>
    public IReadOnlyList<string> Assignees { get; init; } = Array.Empty<string>();
}

/// <summary>Where release tags go: an environment or a group (every environment of it), and the tag prefix.</summary>
public sealed record ReleaseSettings(string Environment, string TagPrefix);

/// <summary>Registries to start on loopback for the local sandbox (the README's first command).</summary>
public sealed record SandboxSettings(string WorkDirectory, IReadOnlyList<string> Registries)
{
    /// <summary>
    /// Where the sandbox keeps its evidence signing key pairs (<c>&lt;role&gt;.key</c>, <c>&lt;role&gt;.pub</c>), made by
    /// SandboxUp when missing and never overwritten; a job without a <c>PROMOTION_SIGNING_KEY_&lt;ROLE&gt;</c> variable
    /// signs with them. Null: no sandbox keys (relative to the configuration file).
    /// </summary>
    public string? Keys { get; init; }
}

/// <summary>One <c>apply:</c> entry: a named policy for every application × environment matching the patterns (<c>*</c> and <c>?</c>).</summary>
public sealed record PolicyApplication(string Policy, IReadOnlyList<string> Applications, IReadOnlyList<string> Environments)
{
    /// <summary>True when the entry covers <paramref name="application"/> in <paramref name="environment"/>.</summary>
    public bool Covers(string application, string environment) =>
        Applications.Any(p => Glob.Matches(p, application)) && Environments.Any(p => Glob.Matches(p, environment));
}

/// <summary>Shell-style name patterns: <c>*</c> any run of characters, <c>?</c> one character, the rest literal.</summary>
public static class Glob
{
    /// <summary>True when <paramref name="name"/> matches <paramref name="pattern"/> entirely.</summary>
    public static bool Matches(string pattern, string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name,
            "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$",
            System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}
