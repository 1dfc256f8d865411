namespace ImagePromotion.Ci;

/// <summary>
/// A developer's machine: identity from git (as the host read it) or the login name, outputs in a dotenv
/// file like CodeBuild's so a local run leaves the same traces, and a summary file.
/// </summary>
public sealed class LocalBuildSystem : DotenvBuildSystem
{
    /// <summary>Takes the actor from <see cref="BuildSystemOptions.GitUserName"/>, else <c>USER</c>/<c>USERNAME</c>, and commit and branch from the options.</summary>
    /// <param name="environment">The process environment.</param>
    /// <param name="options">Git identity, writer and file locations; defaults when null.</param>
    public LocalBuildSystem(IReadOnlyDictionary<string, string?> environment, BuildSystemOptions? options = null)
        : base(options ??= new BuildSystemOptions())
    {
        var env = new EnvironmentReader(environment);
        var name = Clean(options.GitUserName) ?? env["USER"] ?? env["USERNAME"] ?? "unknown";
        Identity = new BuildIdentity(name, null, Clean(options.GitUserEmail));
        Commit = Clean(options.GitCommit);
        Branch = Clean(options.GitBranch);
    }

    /// <inheritdoc/>
    public override string Name => "local";
    /// <inheritdoc/>
    public override BuildIdentity Identity { get; }
    /// <inheritdoc/>
    public override string? RunUrl => null;
    /// <inheritdoc/>
    public override string? Commit { get; }
    /// <inheritdoc/>
    public override string? Branch { get; }
}
