namespace ImagePromotion.Scanning;

/// <summary>A check that needs no vulnerability database: a secret pattern or an image config hygiene rule.</summary>
public sealed record BuiltInRule(string Id, Severity DefaultSeverity, string Description);

/// <summary>The built-in rules: secret patterns matched in layer files, and hygiene checks on the image config.</summary>
public static class BuiltInRules
{
    // Secrets in layers: anyone who can pull the image can read them, so a live credential is critical.
    /// <summary>A PEM private key block (<c>-----BEGIN … PRIVATE KEY-----</c>).</summary>
    public static readonly BuiltInRule PrivateKey = new("private-key", Severity.Critical, "PEM private key");
    /// <summary>An AWS access key id (<c>AKIA…</c>/<c>ASIA…</c>, 20 characters).</summary>
    public static readonly BuiltInRule AwsAccessKeyId = new("aws-access-key-id", Severity.High, "AWS access key id");
    /// <summary>An assignment of an AWS secret access key (<c>aws_secret_access_key = …</c>, 40 characters).</summary>
    public static readonly BuiltInRule AwsSecretAccessKey = new("aws-secret-access-key", Severity.Critical, "AWS secret access key assignment");
    /// <summary>A GitHub token (<c>ghp_</c>, <c>gho_</c>, <c>ghs_</c>, <c>github_pat_</c> …).</summary>
    public static readonly BuiltInRule GitHubToken = new("github-token", Severity.Critical, "GitHub token");
    /// <summary>A Slack token (<c>xoxb-</c>, <c>xoxp-</c> …).</summary>
    public static readonly BuiltInRule SlackToken = new("slack-token", Severity.High, "Slack token");
    /// <summary>A Google API key (<c>AIza…</c>, 39 characters).</summary>
    public static readonly BuiltInRule GoogleApiKey = new("google-api-key", Severity.High, "Google API key");
    /// <summary>A Stripe live secret key (<c>sk_live_…</c>).</summary>
    public static readonly BuiltInRule StripeSecretKey = new("stripe-secret-key", Severity.Critical, "Stripe live secret key");
    // JWTs are often test fixtures or expired session samples: worth a look, not a block.
    /// <summary>A JSON Web Token (three base64url parts, the first starting <c>eyJ</c>).</summary>
    public static readonly BuiltInRule JsonWebToken = new("jwt", Severity.Medium, "JSON Web Token");

    // Image config hygiene.
    /// <summary>The config has no <c>User</c>, or <c>root</c>/<c>0</c>.</summary>
    public static readonly BuiltInRule RootUser = new("root-user", Severity.Medium, "container runs as root (no USER, or USER root/0)");
    /// <summary>An <c>Env</c> entry whose name looks like a secret (containing <c>PASSWORD</c>, <c>SECRET</c>, <c>TOKEN</c>, or a part ending in <c>KEY</c>) has a non-empty value.</summary>
    public static readonly BuiltInRule SecretInEnv = new("secret-in-env", Severity.High, "ENV variable that looks like a secret has a value baked into the image");
    /// <summary>The OCI label naming the source repository is missing (so provenance cannot be read off the image).</summary>
    public static readonly BuiltInRule MissingSourceLabel = new("missing-source-label", Severity.Low, "label org.opencontainers.image.source is missing");
    /// <summary>The OCI label naming the source revision is missing.</summary>
    public static readonly BuiltInRule MissingRevisionLabel = new("missing-revision-label", Severity.Low, "label org.opencontainers.image.revision is missing");
    /// <summary>Port 22 is in <c>ExposedPorts</c>.</summary>
    public static readonly BuiltInRule SshPortExposed = new("ssh-port-exposed", Severity.Low, "port 22 (SSH) is exposed");
    /// <summary>The config has no <c>Healthcheck</c>.</summary>
    public static readonly BuiltInRule NoHealthcheck = new("no-healthcheck", Severity.Info, "no HEALTHCHECK");

    /// <summary>Every built-in rule, secret patterns first.</summary>
    public static IReadOnlyList<BuiltInRule> All { get; } =
    [
        PrivateKey, AwsAccessKeyId, AwsSecretAccessKey, GitHubToken, SlackToken, GoogleApiKey, StripeSecretKey, JsonWebToken,
        RootUser, SecretInEnv, MissingSourceLabel, MissingRevisionLabel, SshPortExposed, NoHealthcheck,
    ];

    /// <summary>The rule with id <paramref name="id"/> (<c>private-key</c>, <c>root-user</c> …); null when none.</summary>
    public static BuiltInRule? Find(string id) => All.FirstOrDefault(r => r.Id == id);
}

/// <summary>
/// Per-rule overrides from configuration: a rule id maps to <c>off</c> or to a severity
/// (<c>critical</c>, <c>high</c>, <c>medium</c>, <c>low</c>, <c>unknown</c>, <c>info</c>).
/// </summary>
public sealed class BuiltInRuleSettings
{
    /// <summary>The value that switches a rule off.</summary>
    public const string Off = "off";

    /// <summary>No overrides: every rule on at its default severity.</summary>
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

    /// <summary>False when the configuration switched the rule off.</summary>
    public bool IsEnabled(BuiltInRule rule) => !_overrides.TryGetValue(rule.Id, out var s) || s is not null;

    /// <summary>The configured severity of the rule, else its default.</summary>
    public Severity SeverityOf(BuiltInRule rule) =>
        _overrides.TryGetValue(rule.Id, out var s) && s is { } configured ? configured : rule.DefaultSeverity;
}
