using System.Text.RegularExpressions;

namespace ImagePromotion.Ci;

/// <summary>
/// AWS CodeBuild. CodeBuild exports the variables named in the buildspec's <c>env.exported-variables</c>
/// from its own shell, which a child process (this one) cannot change. So outputs go to a dotenv-style
/// file that the buildspec sources at the end of its build phase (see <c>deploy/aws/buildspec-*.yml</c>).
/// </summary>
public sealed partial class CodeBuildBuildSystem : DotenvBuildSystem
{
    /// <summary>Where outputs are written unless <see cref="BuildSystemOptions.ExportedVariablesFile"/> says otherwise; the buildspecs source this path.</summary>
    public const string DefaultExportedVariablesFile = ".artifacts/exported-variables.env";

    /// <summary>Reads the run's identity from CodeBuild's variables: <c>CODEBUILD_INITIATOR</c>, <c>CODEBUILD_BUILD_URL</c>, <c>CODEBUILD_RESOLVED_SOURCE_VERSION</c> and the webhook or source ref for the branch.</summary>
    /// <param name="environment">The process environment.</param>
    /// <param name="options">Writer, working directory and file locations; defaults when null.</param>
    public CodeBuildBuildSystem(IReadOnlyDictionary<string, string?> environment, BuildSystemOptions? options = null)
        : base(options ?? new BuildSystemOptions())
    {
        var env = new EnvironmentReader(environment);
        // e.g. "codepipeline/release-pipeline", an IAM user name, or "role/session" for an assumed role.
        Identity = new BuildIdentity(env["CODEBUILD_INITIATOR"] ?? "unknown");
        RunUrl = env["CODEBUILD_BUILD_URL"];
        Commit = env["CODEBUILD_RESOLVED_SOURCE_VERSION"];
        Branch = BranchFrom(env["CODEBUILD_WEBHOOK_HEAD_REF"]) ?? BranchFrom(env["CODEBUILD_SOURCE_VERSION"]);
    }

    /// <inheritdoc/>
    public override string Name => "AWS CodeBuild";
    /// <inheritdoc/>
    public override BuildIdentity Identity { get; }
    /// <inheritdoc/>
    public override string? RunUrl { get; }
    /// <inheritdoc/>
    public override string? Commit { get; }
    /// <inheritdoc/>
    public override string? Branch { get; }

    /// <summary>The dotenv file the buildspec sources so that exported-variables can see the values.</summary>
    public string ExportedVariablesPath => OutputsPath;

    private static string? BranchFrom(string? reference)
    {
        if (reference is null) return null;
        if (reference.StartsWith("refs/heads/", StringComparison.Ordinal)) return reference["refs/heads/".Length..];
        // A source version may be a commit id, a tag ref or "pr/42": none of those is a branch.
        if (reference.StartsWith("refs/", StringComparison.Ordinal) || reference.StartsWith("pr/", StringComparison.Ordinal)) return null;
        if (CommitShape().IsMatch(reference)) return null;
        return reference;
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitShape();
}
