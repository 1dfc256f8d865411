namespace ImagePromotion.Tests.Infrastructure;

public enum RegistryAuthMode { Anonymous, Basic, Token }

/// <summary>How a <see cref="RegistryServer"/> is set up. Use the static factories for the common cases.</summary>
public sealed record RegistryServerOptions
{
    public RegistryAuthMode Auth { get; init; } = RegistryAuthMode.Anonymous;
    /// <summary>Serve HTTPS with a certificate from the test CA (<see cref="RegistryServer.CaCertificatePath"/>).</summary>
    public bool Tls { get; init; }
    /// <summary>Users for <see cref="RegistryAuthMode.Basic"/> (bcrypt htpasswd).</summary>
    public IReadOnlyDictionary<string, string> Users { get; init; } =
        new Dictionary<string, string> { ["tester"] = "s3cret-pass" };
    /// <summary>Token server settings for <see cref="RegistryAuthMode.Token"/>.</summary>
    public TokenServerOptions Token { get; init; } = new();
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>With <see cref="Tls"/>: a CA of this registry's own instead of the run's shared one.</summary>
    public bool OwnCertificateAuthority { get; init; }
    /// <summary>
    /// Regexes of URLs that non-distributable (foreign) layers may point at: distribution then accepts a
    /// manifest listing such a layer without holding its blob (<c>validation.manifests.urls.allow</c>).
    /// </summary>
    public IReadOnlyList<string> AllowedLayerUrls { get; init; } = [];

    public static RegistryServerOptions Anonymous() => new();

    public static RegistryServerOptions BasicAuth(string user = "tester", string password = "s3cret-pass") => new()
    {
        Auth = RegistryAuthMode.Basic,
        Users = new Dictionary<string, string> { [user] = password },
    };

    public static RegistryServerOptions TokenAuth(TokenServerOptions? token = null) => new()
    {
        Auth = RegistryAuthMode.Token,
        Token = token ?? new TokenServerOptions(),
    };

    public RegistryServerOptions WithTls() => this with { Tls = true };
}
