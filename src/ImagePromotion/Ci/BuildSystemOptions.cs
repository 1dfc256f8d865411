namespace ImagePromotion.Ci;

/// <summary>
/// What a build system needs besides environment variables. Hosts fill the git fields from
/// <c>git config user.name</c>/<c>user.email</c> and <c>git rev-parse</c>; tests point the writer and
/// the working directory at their own sandbox.
/// </summary>
public sealed record BuildSystemOptions
{
    /// <summary>Where workflow commands (<c>::add-mask::</c>, groups, annotations) go; default the console.</summary>
    public TextWriter? Stdout { get; init; }

    /// <summary>Base for relative paths such as the exported-variables file; default the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The committer name from <c>git config user.name</c>: a local run's actor.</summary>
    public string? GitUserName { get; init; }
    /// <summary>The committer e-mail from <c>git config user.email</c>, shown beside a local run's actor.</summary>
    public string? GitUserEmail { get; init; }
    /// <summary>The commit checked out (<c>git rev-parse HEAD</c>, 40 hex characters): a local run's commit.</summary>
    public string? GitCommit { get; init; }
    /// <summary>The branch checked out (<c>git rev-parse --abbrev-ref HEAD</c>); null on a detached head.</summary>
    public string? GitBranch { get; init; }

    /// <summary>CodeBuild's exported-variables file, relative to <see cref="WorkingDirectory"/>.</summary>
    public string ExportedVariablesFile { get; init; } = CodeBuildBuildSystem.DefaultExportedVariablesFile;

    /// <summary>The summary file where the system has no summary page (CodeBuild, local).</summary>
    public string SummaryFile { get; init; } = ".artifacts/summary.md";

    /// <summary>The redactor whose new secrets are masked; default <see cref="Logging.SecretRedactor.Shared"/>.</summary>
    public Logging.SecretRedactor? Redactor { get; init; }

    internal TextWriter Out => Stdout ?? Console.Out;
    internal Logging.SecretRedactor SecretRedactor => Redactor ?? Logging.SecretRedactor.Shared;

    internal string Resolve(string path) =>
        Path.GetFullPath(Path.Combine(WorkingDirectory ?? Directory.GetCurrentDirectory(), path));
}
