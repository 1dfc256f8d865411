using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>
/// Who may do what on which repositories. <see cref="Account"/> null means anonymous requests,
/// <c>"*"</c> any authenticated user; <see cref="RepositoryPattern"/> is a glob where <c>*</c>
/// matches any characters including <c>/</c>.
/// </summary>
public sealed record TokenGrant(string? Account, string RepositoryPattern, IReadOnlyList<string> Actions)
{
    public const string AnyUser = "*";

    public static TokenGrant PullPush(string? account, string repositoryPattern = "*") =>
        new(account, repositoryPattern, ["pull", "push"]);

    public static TokenGrant PullOnly(string? account, string repositoryPattern = "*") =>
        new(account, repositoryPattern, ["pull"]);

    public bool Applies(string? account, string repository) =>
        (Account == account || (Account == AnyUser && account is not null)) &&
        Regex.IsMatch(repository, "^" + Regex.Escape(RepositoryPattern).Replace("\\*", ".*") + "$");
}

public sealed record TokenServerOptions
{
    /// <summary>The registry's <c>auth.token.service</c>, and the token's audience.</summary>
    public string Service { get; init; } = "test-registry";
    public string Issuer { get; init; } = "test-token-issuer";
    public IReadOnlyDictionary<string, string> Users { get; init; } =
        new Dictionary<string, string> { ["tester"] = "s3cret-pass" };
    /// <summary>Default: every authenticated user may pull and push everything; anonymous gets nothing.</summary>
    public IReadOnlyList<TokenGrant> Grants { get; init; } = [TokenGrant.PullPush(TokenGrant.AnyUser)];
    /// <summary>What <c>expires_in</c> says, and how long the registry accepts the token (rounded up to a whole second).</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>
    /// Distribution 2.8 accepts tokens for 60 s past <c>exp</c> (clock-skew leeway). When true, <c>exp</c>
    /// is set 60 s early so the registry rejects the token exactly when <see cref="TokenLifetime"/> ends;
    /// that is what makes a 2 s lifetime testable.
    /// </summary>
    public bool CompensateRegistryLeeway { get; init; } = true;
    public TokenSigningAlgorithm Algorithm { get; init; } = TokenSigningAlgorithm.ES256;
}
