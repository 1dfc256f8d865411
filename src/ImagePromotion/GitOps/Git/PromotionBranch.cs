using System.Text;
using ImagePromotion.Registry;

namespace ImagePromotion.GitOps.Git;

/// <summary>
/// Deterministic promotion branch names: the same service, environment and digest always land on the
/// same branch, so a re-run finds its own branch (and pull request) instead of opening another.
/// </summary>
public static class PromotionBranch
{
    /// <summary>First segment of every promotion branch name.</summary>
    public const string Prefix = "promote";

    /// <summary><c>promote/&lt;environment&gt;/&lt;service&gt;-&lt;first 12 hex of the digest&gt;</c>.</summary>
    public static string For(string environment, string service, Digest digest) =>
        $"{Prefix}/{Segment(environment, "environment")}/{Segment(service, "service")}-{ShortDigest(digest)}";

    /// <summary>The first 12 hex characters of the digest (the whole encoded part when shorter).</summary>
    public static string ShortDigest(Digest digest) => digest.Encoded.Length > 12 ? digest.Encoded[..12] : digest.Encoded;

    // Lower-case letters, digits, '-', '_' and '.' survive every git ref rule and every forge's branch UI.
    private static string Segment(string value, string what)
    {
        var builder = new StringBuilder();
        foreach (var c in (value ?? "").Trim().ToLowerInvariant())
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-');
        var segment = builder.ToString().Trim('-');
        while (segment.Contains("--", StringComparison.Ordinal)) segment = segment.Replace("--", "-", StringComparison.Ordinal);
        if (segment.Length == 0)
            throw new PromotionException($"The {what} name '{value}' has no letters or digits to build a promotion branch name from; pass the {what} name as in the pipeline configuration.");
        return segment;
    }
}
