namespace ImagePromotion.Scanning;

/// <summary>A check that needs no vulnerability database: a secret pattern or an image config hygiene rule.</summary>
public sealed record BuiltInRule(string Id, Severity DefaultSeverity, string Description);

public static class BuiltInRules
{
    // Secrets in layers: anyone who can pull the image can read them, so a live credential is critical.
    public static readonly BuiltInRule PrivateKey = new("private-key", Severity.Critical, "PEM private key");
    public static readonly BuiltInRule AwsAccessKeyId = new("aws-access-key-id", Severity.High, "AWS access key id");
    public static readonly BuiltInRule AwsSecretAccessKey = new("aws-secret-access-key", Severity.Critical, "AWS secret access key assignment");
    public static readonly BuiltInRule GitHubToken = new("github-token", Severity.Critical, "GitHub token");
    public static readonly BuiltInRule SlackToken = new("slack-token", Severity.High, "Slack token");
    public static readonly BuiltInRule GoogleApiKey = new("google-api-key", Severity.High, "Google API key");
    public static readonly BuiltInRule StripeSecretKey = new("stripe-secret-key", Severity.Critical, "Stripe live secret key");
    // JWTs are often test fixtures or expired session samples: worth a look, not a block.
    public static readonly BuiltInRule JsonWebToken = new("jwt", Severity.Medium, "JSON Web Token");

    // Image config hygiene.
    public static readonly BuiltInRule RootUser = new("root-user", Severity.Medium, "container runs as root (no USER, or USER root/0)");
    public static readonly BuiltInRule SecretInEnv = new("secret-in-env", Severity.High, "ENV variable that looks like a secret has a value baked into the image");
    public static readonly BuiltInRule MissingSourceLabel = new("missing-source-label", Severity.Low, "label org.opencontainers.image.source is missing");
    public static readonly BuiltInRule MissingRevisionLabel = new("missing-revision-label", Severity.Low, "label org.opencontainers.image.revision is missing");
    public static readonly BuiltInRule SshPortExposed = new("ssh-port-exposed", Severity.Low, "port 22 (SSH) is exposed");
    public static readonly BuiltInRule NoHealthcheck = new("no-healthcheck", Severity.Info, "no HEALTHCHECK");

    public static IReadOnlyList<BuiltInRule> All { get; } =
    [
        PrivateKey, AwsAccessKeyId, AwsSecretAccessKey, GitHubToken, SlackToken, GoogleApiKey, StripeSecretKey, JsonWebToken,
        RootUser, SecretInEnv, MissingSourceLabel, MissingRevisionLabel, SshPortExposed, NoHealthcheck,
    ];

    public static BuiltInRule? Find(string id) => All.FirstOrDefault(r => r.Id == id);
}

/// <summary>
/// Per-rule overrides from configuration: a rule id maps to <c>off</c> or to a severity
/// (<c>critical</c>, <c>high</c>, <c>medium</c>, <c>low</c>, <c>unknown</c>, <c>info</c>).
/// </summary>
public sealed class BuiltInRuleSettings
{
    public const string Off = "off";

    public static BuiltInRuleSettings Default { get; } = new(new Dictionary<string, Severity?>());

    // null value = switched off.
    private readonly IReadOnlyDictionary<string, Severity?> _overrides;

    private BuiltInRuleSettings(IReadOnlyDictionary<string, Severity?> overrides) => _overrides = overrides;

    /// <param name="settings">rule id → <c>off</c> or a severity name, e.g. from the <c>scan.rules</c> section of a config file.</param>
    /// <param name="source">Where the settings came from (file and key), named in errors.</param>
    public static BuiltInRuleSettings Parse(IReadOnlyDictionary<string, string?>? settings, string source = "scan rule settings")
    {
        if (settings is null || settings.Count == 0) return Default;
        var overrides = new Dictionary<string, Severity?>(StringComparer.Ordinal);
        foreach (var (id, value) in settings)
        {
            if (BuiltInRules.Find(id) is null)
                throw new PromotionException($"{source}: unknown built-in rule '{id}'; known rules are {string.Join(", ", BuiltInRules.All.Select(r => r.Id))}");
            var text = value?.Trim().ToLowerInvariant();
            if (text == Off) { overrides[id] = null; continue; }
            overrides[id] = SeverityText.TryParse(text)
                ?? throw new PromotionException($"{source}: rule '{id}' has value '{value}'; use off, critical, high, medium, low, unknown or info");
        }
        return new BuiltInRuleSettings(overrides);
    }

    public bool IsEnabled(BuiltInRule rule) => !_overrides.TryGetValue(rule.Id, out var s) || s is not null;

    public Severity SeverityOf(BuiltInRule rule) =>
        _overrides.TryGetValue(rule.Id, out var s) && s is { } configured ? configured : rule.DefaultSeverity;
}
