namespace ImagePromotion.Configuration;

/// <summary>The promotion configuration: one service, its registries and its environments in promotion order.</summary>
public sealed record PromotionConfig
{
    /// <summary>The file it was read from (or "(embedded default)"), for messages.</summary>
    public required string Source { get; init; }
    /// <summary>Directory relative paths are resolved against (the file's directory).</summary>
    public required string BaseDirectory { get; init; }
    public required string Service { get; init; }
    public required BuildSettings Build { get; init; }
    public required IReadOnlyDictionary<string, RegistrySettings> Registries { get; init; }
    /// <summary>In promotion order: dev, staging, production.</summary>
    public required IReadOnlyList<EnvironmentSettings> Environments { get; init; }
    public required ReleaseSettings Release { get; init; }
    public SandboxSettings? Sandbox { get; init; }
    /// <summary>The <c>scan:</c> section; null runs the built-in checks and every installed scanner.</summary>
    public ScanSettings? Scan { get; init; }

    public EnvironmentSettings Environment(string name) =>
        Environments.FirstOrDefault(e => e.Name == name)
        ?? throw new PromotionException($"{Source}: no environment named '{name}' (have: {string.Join(", ", Environments.Select(e => e.Name))}): add it under environments");

    public RegistrySettings RegistryOf(EnvironmentSettings environment) => Registries[environment.Registry];

    public string ResolvePath(string path) => Path.GetFullPath(Path.Combine(BaseDirectory, path));
}

public sealed record BuildSettings(string Context, string Containerfile, string Builder, string Platform);

public sealed record RegistrySettings(string Name, string Host, bool Insecure, string? CaBundle, string? UsernameEnv, string? PasswordEnv);

/// <summary>
/// Where an environment's image lives. <see cref="Tag"/> may hold <c>{commit}</c>. <see cref="TagMayMove"/>
/// false makes the tag immutable: once it points at a digest, pointing it elsewhere is refused.
/// </summary>
public sealed record EnvironmentSettings(string Name, string Registry, string Repository, string Tag, bool TagMayMove)
{
    public GitOpsSettings? GitOps { get; init; }
    /// <summary>The gates a promotion into this environment must pass; null: none.</summary>
    public GateSettings? Gates { get; init; }
}

public sealed record GitOpsSettings
{
    /// <summary>A local path or a git URL of the GitOps repository.</summary>
    public required string Repository { get; init; }
    public string BaseBranch { get; init; } = "main";
    /// <summary>Manifest paths inside the repository.</summary>
    public required IReadOnlyList<string> Manifests { get; init; }
    public string? Container { get; init; }
    public string? Path { get; init; }
    /// <summary>pull-request (branch + PR) or direct (push to the base branch).</summary>
    public string Mode { get; init; } = "pull-request";
    public bool PinDigest { get; init; } = true;
    public GitHubSettings? GitHub { get; init; }
}

public sealed record GitHubSettings(string Owner, string Repository, string BaseUrl, string TokenEnv, bool AutoMerge, string MergeMethod)
{
    public IReadOnlyList<string> Labels { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> Reviewers { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> Assignees { get; init; } = Array.Empty<string>();
}

public sealed record ReleaseSettings(string Environment, string TagPrefix);

/// <summary>Registries to start on loopback for the local sandbox (the README's first command).</summary>
public sealed record SandboxSettings(string WorkDirectory, IReadOnlyList<string> Registries);
