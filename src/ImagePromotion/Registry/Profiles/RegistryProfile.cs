namespace ImagePromotion.Registry.Profiles;

/// <summary>How a registry wants blob bytes: one PUT with the body, or PATCH chunks then an empty PUT.</summary>
public enum UploadMethod
{
    /// <summary><c>POST</c>, then <c>PUT ?digest=</c> with the whole blob as the body (one request fewer).</summary>
    Monolithic,
    /// <summary><c>POST</c>, <c>PATCH</c> chunk(s), then an empty <c>PUT ?digest=</c>.</summary>
    Chunked,
}

/// <summary>Whether a family serves the OCI 1.1 referrers API or needs the referrers tag schema.</summary>
public enum ReferrersSupport
{
    /// <summary>Not established for the family.</summary>
    Unknown,
    /// <summary>Serves <c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;</c> (distribution-spec 1.1).</summary>
    Api,
    /// <summary>No referrers API: referrers are listed in an index under the <c>sha256-&lt;hex&gt;</c> tag (the spec's fallback).</summary>
    TagSchema,
}

/// <summary>One thing a registry family does differently, with the public report it is known from.</summary>
/// <param name="Why">One line: the behaviour and what the engine does about it.</param>
/// <param name="Report">Where it is documented: <c>owner/repo#number</c>.</param>
public sealed record RegistryQuirk(string Why, string Report);

/// <summary>
/// What one registry family does differently from the CNCF distribution registry, in one place. The
/// engine reads <see cref="ApiHost"/>, <see cref="CredentialKeys"/>, <see cref="Upload"/>,
/// <see cref="ChunkedUploads"/>, <see cref="MinChunkBytes"/> and <see cref="MaxChunkBytes"/>; the other
/// fields document the family for the README's compatibility table. A registry that answers differently
/// from its profile is adapted to at run time (see <see cref="RegistryBehaviour"/>).
/// </summary>
public sealed record RegistryProfile
{
    /// <summary>The family's name, e.g. <c>ecr</c>, <c>dockerhub</c>, <c>distribution</c>.</summary>
    public required string Family { get; init; }
    /// <summary>Host patterns, matched without the port: an exact host, or a glob where <c>*</c> stands for any characters.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];
    /// <summary>Names a reference may use for this registry that all mean <see cref="Hosts"/>' first entry.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>The host the distribution API is served on, when it is not the registry's own name.</summary>
    public string? ApiHost { get; init; }
    /// <summary>Keys under which Docker's config.json files this registry's credentials, when not the host itself.</summary>
    public IReadOnlyList<string>? CredentialKeys { get; init; }
    /// <summary>How blobs are uploaded first; a registry refusing it switches the run to the other way.</summary>
    public UploadMethod Upload { get; init; } = UploadMethod.Monolithic;
    /// <summary>False when PATCH uploads are refused or broken: never fall back to them.</summary>
    public bool ChunkedUploads { get; init; } = true;
    /// <summary>The smallest PATCH the registry takes, except the last one.</summary>
    public long? MinChunkBytes { get; init; }
    /// <summary>The largest PATCH body the registry takes.</summary>
    public long? MaxChunkBytes { get; init; }
    /// <summary>How the family authenticates, for the compatibility table (<c>Bearer token</c>, <c>Basic</c> …).</summary>
    public string Auth { get; init; } = "Bearer token";
    /// <summary>Whether cross-repository mounts work, for the compatibility table.</summary>
    public string Mount { get; init; } = "yes";
    /// <summary>Whether the family serves the referrers API or needs the tag schema.</summary>
    public ReferrersSupport Referrers { get; init; } = ReferrersSupport.Unknown;
    /// <summary>Whether tags can be made immutable and how, for the compatibility table.</summary>
    public string ImmutableTags { get; init; } = "no";
    /// <summary>The family's documented rate limits, for the compatibility table.</summary>
    public string RateLimits { get; init; } = "none known";
    /// <summary>The test class that emulates the family's quirks against a real registry.</summary>
    public string EmulatedBy { get; init; } = "";
    /// <summary>What the family does differently, each with its public report.</summary>
    public IReadOnlyList<RegistryQuirk> Quirks { get; init; } = [];

    /// <summary>True when <paramref name="host"/> (host[:port], any case) belongs to this family.</summary>
    public bool Matches(string host)
    {
        var name = StripPort(host).ToLowerInvariant();
        return Hosts.Concat(Aliases).Any(pattern => Glob(name, pattern));
    }

    private static bool Glob(string name, string pattern)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1) return name == pattern;
        if (!name.StartsWith(parts[0], StringComparison.Ordinal) || !name.EndsWith(parts[^1], StringComparison.Ordinal)) return false;
        var at = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = name.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0) return false;
            at = found + parts[i].Length;
        }
        return at <= name.Length - parts[^1].Length;
    }

    private static string StripPort(string host)
    {
        if (host.StartsWith('[')) return host;
        var colon = host.LastIndexOf(':');
        return colon > 0 ? host[..colon] : host;
    }
}
