namespace ImagePromotion.Ci;

/// <summary>
/// Names of the values targets hand to later steps. GitHub reads them as step outputs; CodeBuild exports
/// them upper-cased (<see cref="DotenvBuildSystem.VariableName"/>) as the buildspecs list them.
/// </summary>
public static class OutputNames
{
    /// <summary>The image reference pinned by digest, e.g. <c>registry/app@sha256:…</c>.</summary>
    public const string Image = "image";
    /// <summary>The manifest digest alone, <c>sha256:…</c>.</summary>
    public const string Digest = "digest";
    /// <summary>The GitOps pull request opened by UpdateManifest/PromoteProduction.</summary>
    public const string PullRequestUrl = "pull_request_url";
    /// <summary>The release tag applied by ReleaseTag.</summary>
    public const string ReleaseTag = "release_tag";
    /// <summary>Path of the promotion record (JSONL) written by the run.</summary>
    public const string PromotionRecord = "promotion_record";
}
