namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Guards against hostile manifests. Aliases are never expanded; instead the number of nodes an expansion
/// would produce is counted, which is what makes a "billion laughs" file dangerous to the tools downstream.
/// </summary>
public sealed record ManifestLimits(
    long MaxFileBytes = 5 * 1024 * 1024,
    int MaxDepth = 100,
    int MaxAliases = 10_000,
    long MaxAliasExpansion = 1_000_000)
{
    /// <summary>5 MiB, depth 100, 10,000 aliases, 1,000,000 nodes of alias expansion.</summary>
    public static ManifestLimits Default { get; } = new();
}
