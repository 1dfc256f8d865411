namespace ImagePromotion.Ci;

/// <summary>
/// A developer's machine: identity from git (as the host read it) or the login name, outputs in a dotenv
/// file like CodeBuild's so a local run leaves the same traces, and a summary file.
/// </summary>
public sealed class LocalBuildSystem : DotenvBuildSystem
{
    public LocalBuildSystem(IReadOnlyDictionary<string, string?> environment, BuildSystemOptions? options = null)
        : base(options ??= new BuildSystemOptions())
    {
        var env = new EnvironmentReader(environment);
        var name = Clean(options.GitUserName) ?? env["USER"] ?? env["USERNAME"] ?? "unknown";
        Identity = new BuildIdentity(name, null, Clean(options.GitUserEmail));
        Commit = Clean(options.GitCommit);
        Branch = Clean(options.GitBranch);
    }

    public override string Name => "local";
    public override BuildIdentity Identity { get; }
    public override string? RunUrl => null;
    public override string? Commit { get; }
    public override string? Branch { get; }
}
