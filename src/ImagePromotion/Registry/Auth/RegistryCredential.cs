namespace ImagePromotion.Registry.Auth;

/// <summary>
/// What a registry accepts from us. <see cref="IdentityToken"/> is an OAuth2 refresh token (Docker's
/// <c>identitytoken</c>, ACR's and GAR's usual form); <see cref="RegistryToken"/> is a bearer token used as is.
/// <see cref="Source"/> says where it came from, for error messages; it never holds the secret.
/// </summary>
public sealed record RegistryCredential(string? Username, string? Password, string Source)
{
    /// <summary>An OAuth2 refresh token exchanged at the token endpoint (Docker's <c>identitytoken</c>).</summary>
    public string? IdentityToken { get; init; }
    /// <summary>A bearer token sent as is.</summary>
    public string? RegistryToken { get; init; }

    /// <summary>No credential: requests go unauthenticated.</summary>
    public static RegistryCredential Anonymous { get; } = new(null, null, "anonymous");

    /// <summary>True when it carries no user, password or token.</summary>
    public bool IsAnonymous => Username is null && Password is null && IdentityToken is null && RegistryToken is null;

    // Records print their members; a credential must never print a secret.
    /// <summary><c>credential for USER from SOURCE</c>: never the secret.</summary>
    public override string ToString() => $"credential for {Username ?? "(none)"} from {Source}";
}
