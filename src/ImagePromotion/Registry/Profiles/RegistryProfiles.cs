namespace ImagePromotion.Registry.Profiles;

/// <summary>
/// The registry-family table: every quirk the engine knows, each with the public report it comes from.
/// A host that matches no family gets <see cref="Distribution"/> (the CNCF registry the tests run against,
/// and what most self-hosted registries behave like). Self-hosted families (Harbor, Pulp, zot, Artifactory
/// on its own domain) cannot be told by their host name: name them per host in
/// <see cref="Transport.TransportOptions.Families"/>, or let the run adapt (<see cref="RegistryBehaviour"/>).
/// </summary>
public static class RegistryProfiles
{
    private const long MiB = 1024 * 1024;

    /// <summary>The CNCF distribution registry (docker-registry 2.8): the default for hosts no other profile matches.</summary>
    public static RegistryProfile Distribution { get; } = new()
    {
        Family = "distribution",
        Auth = "none, Basic (htpasswd) or Bearer token",
        Referrers = ReferrersSupport.TagSchema,
        EmulatedBy = "every Copy test (docker-registry 2.8.2)",
        Quirks =
        [
            new("serves a signed schema 1 manifest under the digest of its payload without signatures: refused with a re-push hint, never hashed", "distribution/distribution#1444"),
            new("a mount it cannot do answers 202 with an upload session, which the engine then uploads into", "opencontainers/distribution-spec#206"),
            new("2.8 has no referrers API (404): evidence uses the sha256-<hex> tag schema", "distribution/distribution#3859"),
        ],
    };

    /// <summary>Docker Hub (<c>docker.io</c>, API on <c>registry-1.docker.io</c>).</summary>
    public static RegistryProfile DockerHub { get; } = new()
    {
        Family = "dockerhub",
        Hosts = [ImageReference.DockerHub],
        Aliases = ["index.docker.io", "registry-1.docker.io"],
        ApiHost = "registry-1.docker.io",
        // Docker's CLI files Hub credentials under the legacy v1 index URL.
        CredentialKeys = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"],
        Auth = "Bearer token from auth.docker.io",
        Mount = "yes (the token needs pull on the source repository)",
        Referrers = ReferrersSupport.TagSchema,
        RateLimits = "pulls per 6 h per IP or account: 429 TOOMANYREQUESTS; RateLimit-* headers",
        EmulatedBy = "FaultyNetworkCopyTests, RegistryInteropTests.Retry_After_*",
        Quirks =
        [
            new("the API lives on registry-1.docker.io while references say docker.io or index.docker.io", "docker/docs#11648"),
            new("pull rate limits answer 429 on manifest GETs: Retry-After honoured up to the documented maximum", "docker/hub-feedback#1907"),
            new("a mount token must also grant pull on the source repository: the mount request asks for both scopes", "oras-project/rust-oci-client#235"),
            new("no referrers API", "docker/roadmap#724"),
        ],
    };

    /// <summary>Amazon ECR, private (<c>*.dkr.ecr.*.amazonaws.com</c>) and public (<c>public.ecr.aws</c>).</summary>
    public static RegistryProfile Ecr { get; } = new()
    {
        Family = "ecr",
        Hosts = ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn", "public.ecr.aws"],
        Auth = "Basic with AWS:<ecr get-login-password> (12 h)",
        Mount = "only blobs a manifest in the source references, else 202; fallback to upload",
        MinChunkBytes = 5 * MiB,
        Referrers = ReferrersSupport.Api,
        ImmutableTags = "per repository (400 TAG_INVALID)",
        RateLimits = "per-API throttling: 429 with Retry-After",
        EmulatedBy = "RegistryInteropTests.Immutable_*, Retry_After_*, Chunked_*",
        Quirks =
        [
            new("layer parts other than the last must be at least 5 MiB (LayerPartTooSmallException)", "dotnet/sdk-container-builds#424"),
            new("a PATCH is answered 201 instead of 202 and later PATCHes are dropped: monolithic PUT first, one PATCH if chunked", "aws/containers-roadmap#2831"),
            new("mounts only blobs referenced by a manifest in the source repository, else declines with 202", "aws/containers-roadmap#2860"),
            new("IMMUTABLE repositories refuse any PUT of an existing tag with 400 TAG_INVALID, even for the same digest", "aws/containers-roadmap#2179"),
            new("uploads and PutImage are throttled with 429", "containerd/containerd#10447"),
        ],
    };

    /// <summary>GitHub Container Registry (<c>ghcr.io</c>).</summary>
    public static RegistryProfile Ghcr { get; } = new()
    {
        Family = "ghcr",
        Hosts = ["ghcr.io"],
        Auth = "Bearer token (PAT or GITHUB_TOKEN as password)",
        MaxChunkBytes = 4 * MiB,
        Referrers = ReferrersSupport.TagSchema,
        RateLimits = "about 2,000 requests per minute: 429 with Retry-After",
        EmulatedBy = "RegistryInteropTests.Nested_index_*, Chunked_*",
        Quirks =
        [
            new("a PATCH body over 4 MiB is refused with 416 REQUESTED_RANGE_NOT_SATISFIABLE: chunks of at most 4 MiB", "oras-project/rust-oci-client#35"),
            new("no referrers API; the sha256-<hex> tag schema is used", "actions/attest-build-provenance#71"),
            new("serves indexes whose entries are indexes: the whole graph is copied, children first", "pelagos-containers/pelagos#533"),
            new("rate limit of about 2,000 requests a minute answered with 429", "gardenlinux/gardenlinux#2585"),
            new("upload Locations are relative paths (/v2/...), resolved against the request that got them", "apple/swift-container-plugin#44"),
        ],
    };

    /// <summary>Google Artifact Registry and Container Registry (<c>*-docker.pkg.dev</c>, <c>gcr.io</c>).</summary>
    public static RegistryProfile Gar { get; } = new()
    {
        Family = "gar",
        Hosts = ["*-docker.pkg.dev", "gcr.io", "*.gcr.io"],
        Auth = "Bearer token (oauth2accesstoken or a service-account key)",
        ChunkedUploads = false,
        Referrers = ReferrersSupport.Unknown,
        ImmutableTags = "per repository setting",
        RateLimits = "per-project quota: 429",
        EmulatedBy = "RegistryInteropTests (monolithic path)",
        Quirks =
        [
            new("does not support chunked uploads at all: monolithic PUT only, never a PATCH fallback", "dotnet/sdk-container-builds#287"),
            new("upload Locations point at /artifacts-uploads/..., not /v2/...: used as given", "oras-project/rust-oci-client#175"),
        ],
    };

    /// <summary>Azure Container Registry (<c>*.azurecr.io</c>).</summary>
    public static RegistryProfile Acr { get; } = new()
    {
        Family = "acr",
        Hosts = ["*.azurecr.io", "*.azurecr.cn", "*.azurecr.us"],
        Auth = "Bearer token; OAuth2 refresh token (identitytoken) at /oauth2/token",
        Referrers = ReferrersSupport.Api,
        ImmutableTags = "per repository or tag lock (write-enabled: false)",
        RateLimits = "per-SKU request throttling: 429",
        EmulatedBy = "TokenResponseTests, RegistryInteropTests.Relative_*",
        Quirks =
        [
            new("the token response carries access_token instead of token", "camallo/dkregistry-rs#262"),
        ],
    };

    /// <summary>Harbor (self-hosted: named per host through <see cref="Transport.TransportOptions.Families"/>).</summary>
    public static RegistryProfile Harbor { get; } = new()
    {
        Family = "harbor",
        Auth = "Bearer token; robot accounts",
        Mount = "a mount from a project it cannot see answers 401 instead of 202: fallback to upload",
        Referrers = ReferrersSupport.Api,
        ImmutableTags = "tag immutability rules (412 DENIED)",
        RateLimits = "none by default",
        EmulatedBy = "RegistryInteropTests.A_refused_mount_*, Immutable_*",
        Quirks =
        [
            new("a cross-repository mount from a project the user cannot read answers 401 UNAUTHORIZED, not 202", "goharbor/harbor#17097"),
            new("tag immutability rules refuse a push onto a matching tag with 412 DENIED", "goharbor/harbor#9427"),
        ],
    };

    /// <summary>Red Hat Quay (<c>quay.io</c>).</summary>
    public static RegistryProfile Quay { get; } = new()
    {
        Family = "quay",
        Hosts = ["quay.io"],
        Auth = "Bearer token; robot accounts",
        Referrers = ReferrersSupport.Api,
        ImmutableTags = "tag expiration, no immutability",
        RateLimits = "per-IP request limits: 429",
        EmulatedBy = "RegistryInteropTests.Nested_index_*",
        Quirks =
        [
            new("nested indexes (an index entry that is an index) were refused until quay fixed its parser", "quay/quay#3427"),
            new("its S3 storage needs chunks of at least 5 MiB", "quay/quay#2949"),
        ],
    };

    /// <summary>JFrog Artifactory (<c>*.jfrog.io</c>).</summary>
    public static RegistryProfile Artifactory { get; } = new()
    {
        Family = "artifactory",
        Hosts = ["*.jfrog.io"],
        Auth = "Basic or Bearer token",
        Referrers = ReferrersSupport.Unknown,
        ImmutableTags = "repository setting (no redeploy)",
        RateLimits = "none by default",
        EmulatedBy = "RegistryClientTests (missing Docker-Content-Digest), RegistryInteropTests.Immutable_*",
        Quirks =
        [
            new("HEAD on a manifest may omit Docker-Content-Digest and send application/octet-stream: the digest is taken from a GET", "deitch/docker_registry2#83"),
            new("without delete rights a failed upload session can only be removed by an admin: sessions are cancelled as soon as they fail", "oras-project/rust-oci-client#205"),
        ],
    };

    /// <summary>GitLab container registry (<c>registry.gitlab.com</c>).</summary>
    public static RegistryProfile GitLab { get; } = new()
    {
        Family = "gitlab",
        Hosts = ["registry.gitlab.com"],
        Auth = "Bearer token from gitlab.com/jwt/auth (job token, deploy token, PAT)",
        Mount = "refused (the token service kept one scope): fallback to upload",
        Referrers = ReferrersSupport.TagSchema,
        ImmutableTags = "protected tags (GitLab 17+)",
        RateLimits = "gitlab.com request limits: 429",
        EmulatedBy = "RegistryInteropTests.A_refused_mount_*",
        Quirks =
        [
            new("the token service granted only the last of several scopes, so every mount got 401 insufficient_scope", "estesp/manifest-tool#53"),
            new("no referrers API, and a sha256-<hex> tag resolves to the subject itself", "oras-project/oras-go#1396"),
        ],
    };

    /// <summary>Pulp (self-hosted: named per host through <see cref="Transport.TransportOptions.Families"/>).</summary>
    public static RegistryProfile Pulp { get; } = new()
    {
        Family = "pulp",
        Upload = UploadMethod.Chunked,
        Auth = "Basic or Bearer token",
        Referrers = ReferrersSupport.Unknown,
        RateLimits = "none by default",
        EmulatedBy = "RegistryInteropTests.Chunked_*",
        Quirks =
        [
            new("until monolithic uploads were added, the PUT completing an upload ignored its body: PATCH then an empty PUT", "pulp/pulp_container#1274"),
            new("a PATCH is answered 204 instead of 202: any 2xx is taken", "pulp/pulp_container#2199"),
            new("signed schema 1 digests differ from the hash of the served bytes", "pulp/pulp_container#1130"),
        ],
    };

    /// <summary>Zot (self-hosted: named per host through <see cref="Transport.TransportOptions.Families"/>).</summary>
    public static RegistryProfile Zot { get; } = new()
    {
        Family = "zot",
        Auth = "none, Basic, Bearer or OpenID",
        Referrers = ReferrersSupport.Api,
        RateLimits = "none by default",
        EmulatedBy = "every Copy test (the monolithic PUT carries Content-Type: application/octet-stream)",
        Quirks =
        [
            new("a monolithic PUT without Content-Type: application/octet-stream is refused with 415", "containerd/containerd#4017"),
            new("serves the OCI 1.1 referrers API", "project-zot/zot#934"),
        ],
    };

    /// <summary>Every family, in the README's order; <see cref="Distribution"/> last (the default).</summary>
    public static IReadOnlyList<RegistryProfile> All { get; } =
        [Ecr, DockerHub, Ghcr, Gar, Acr, Harbor, Quay, Artifactory, GitLab, Pulp, Zot, Distribution];

    /// <summary>The profile of a host: a family named for it in <paramref name="families"/>, else by its name, else distribution.</summary>
    public static RegistryProfile For(string host, IReadOnlyDictionary<string, string>? families = null)
    {
        if (families is not null && families.TryGetValue(host, out var named))
            return ByName(named) ?? throw new PromotionException(
                $"registry {host}: unknown registry family '{named}': use one of {string.Join(", ", All.Select(p => p.Family))}");
        return All.FirstOrDefault(p => p.Matches(host)) ?? Distribution;
    }

    /// <summary>The profile whose <see cref="RegistryProfile.Family"/> is <paramref name="family"/> (any case); null when none.</summary>
    public static RegistryProfile? ByName(string family) =>
        All.FirstOrDefault(p => p.Family.Equals(family, StringComparison.OrdinalIgnoreCase));

    /// <summary>The name a reference uses for a registry: an alias becomes its family's own host (<c>index.docker.io</c> → <c>docker.io</c>).</summary>
    public static string Canonical(string registry)
    {
        foreach (var p in All)
            if (p.Aliases.Any(a => a.Equals(registry, StringComparison.OrdinalIgnoreCase)))
                return p.Hosts[0];
        return registry;
    }

    /// <summary>The host:port the distribution API of <paramref name="registry"/> is served on.</summary>
    public static string ApiHost(string registry) => For(registry).ApiHost ?? registry;

    /// <summary>The registry name whose credentials serve an API host (<c>registry-1.docker.io</c> → <c>docker.io</c>).</summary>
    public static string RegistryOfApiHost(string host)
    {
        foreach (var p in All)
            if (p.ApiHost is { } api && api.Equals(host, StringComparison.OrdinalIgnoreCase))
                return p.Hosts[0];
        return host;
    }
}
