using System.Text.RegularExpressions;

namespace ImagePromotion.Scanning;

/// <summary>
/// Well-known credential shapes. Each pattern has a cheap literal that must appear in the line before the
/// regex runs, because nearly every line of a layer contains none of them.
/// </summary>
internal sealed record SecretPattern(BuiltInRule Rule, string[] Hints, StringComparison HintComparison, Regex Regex)
{
    public bool MayMatch(string line)
    {
        foreach (var hint in Hints)
            if (line.Contains(hint, HintComparison)) return true;
        return false;
    }

    /// <summary>
    /// What a finding may show of a match: the masked secret, or for a PEM key the header line, which
    /// names the key type and holds nothing secret (the key body is on later lines and never kept).
    /// </summary>
    /// <summary>
    /// Documentation placeholders (AWS's AKIAIOSFODNN7EXAMPLE and the like) ship in SDKs and man pages of
    /// countless images; flagging them would bury real findings.
    /// </summary>
    public bool IsPlaceholder(Match m)
    {
        var value = m.Groups["secret"] is { Success: true } g ? g.Value : m.Value;
        return value.Contains("EXAMPLE", StringComparison.OrdinalIgnoreCase);
    }

    public string Hint(Match m) => m.Groups["secret"] is { Success: true } g ? SecretPatterns.Mask(g.Value) : m.Value;
}

internal static partial class SecretPatterns
{
    public static IReadOnlyList<SecretPattern> All { get; } =
    [
        new(BuiltInRules.PrivateKey, ["PRIVATE KEY-----"], StringComparison.Ordinal, PrivateKey()),
        new(BuiltInRules.AwsAccessKeyId, ["AKIA", "ASIA"], StringComparison.Ordinal, AwsAccessKeyId()),
        new(BuiltInRules.AwsSecretAccessKey, ["secret"], StringComparison.OrdinalIgnoreCase, AwsSecretAccessKey()),
        new(BuiltInRules.GitHubToken, ["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"], StringComparison.Ordinal, GitHubToken()),
        new(BuiltInRules.SlackToken, ["xox"], StringComparison.Ordinal, SlackToken()),
        new(BuiltInRules.GoogleApiKey, ["AIza"], StringComparison.Ordinal, GoogleApiKey()),
        new(BuiltInRules.StripeSecretKey, ["_live_"], StringComparison.Ordinal, StripeSecretKey()),
        new(BuiltInRules.JsonWebToken, ["eyJ"], StringComparison.Ordinal, JsonWebToken()),
    ];

    /// <summary>
    /// Enough to recognise which credential it is and find it again, far too little to use:
    /// the first four characters, then stars.
    /// </summary>
    public static string Mask(string secret) => (secret.Length <= 4 ? "" : secret[..4]) + "***";

    [GeneratedRegex(@"-----BEGIN (?<kind>RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----")]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"(?<![A-Z0-9])(?<secret>(?:AKIA|ASIA)[A-Z0-9]{16})(?![A-Z0-9])")]
    private static partial Regex AwsAccessKeyId();

    // The secret key itself is 40 base64-ish characters with no prefix, so only its conventional name
    // (aws_secret_access_key = …, AWS_SECRET_ACCESS_KEY: …) makes it recognisable without false alarms.
    [GeneratedRegex(@"(?i)aws_?secret_?access_?key[""']?\s*[:=]\s*[""']?(?<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])")]
    private static partial Regex AwsSecretAccessKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?<secret>(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"(?<secret>xox[baprs]-[A-Za-z0-9-]{10,})")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"(?<secret>AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])")]
    private static partial Regex GoogleApiKey();

    [GeneratedRegex(@"(?<secret>(?:sk|rk)_live_[0-9A-Za-z]{20,})")]
    private static partial Regex StripeSecretKey();

    [GeneratedRegex(@"(?<secret>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})")]
    private static partial Regex JsonWebToken();
}
