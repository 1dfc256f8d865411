namespace ImagePromotion.Registry;

/// <summary>The manifest media types the engine copies; anything else is refused by name.</summary>
public static class MediaTypes
{
    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    /// <summary>OCI image index (a multi-platform image).</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    /// <summary>Docker image manifest v2 schema 2.</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    /// <summary>Docker manifest list (multi-platform).</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// <summary>The OCI empty descriptor's media type: config of artifacts with no config (<c>{}</c>, 2 bytes).</summary>
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    /// <summary>Docker schema 1, signed (libtrust JWS) and unsigned: never copied (see <see cref="IsSchema1"/>).</summary>
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// <summary>Docker schema 1, unsigned.</summary>
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    /// <summary>Windows base layers: the blob lives at the descriptor's <c>urls</c>, not in the registry.</summary>
    public const string DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    private const string OciNonDistributablePrefix = "application/vnd.oci.image.layer.nondistributable.v1.tar";

    /// <summary>Sent as Accept on every manifest request, so the registry never converts (and re-digests) a manifest.</summary>
    public static readonly string[] Manifests = { OciIndex, OciManifest, DockerManifestList, DockerManifest };

    /// <summary>True for an OCI index or a Docker manifest list.</summary>
    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for an OCI image manifest or a Docker v2 schema 2 manifest.</summary>
    public static bool IsImageManifest(string mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>True for the four manifest types the engine copies.</summary>
    public static bool IsKnownManifest(string mediaType) => IsIndex(mediaType) || IsImageManifest(mediaType);

    /// <summary>
    /// Docker schema 1: a signed one's digest is the hash of its payload without the signatures, not of the
    /// bytes a registry serves (distribution/distribution#1444), so it cannot be copied digest-for-digest.
    /// </summary>
    public static bool IsSchema1(string? mediaType) => mediaType is DockerSchema1Signed or DockerSchema1;

    /// <summary>
    /// A layer a registry need not hold: Docker's foreign layer and the OCI non-distributable layers (tar,
    /// +gzip, +zstd). Their digest stays in the manifest; the blob is fetched from the descriptor's <c>urls</c>.
    /// </summary>
    public static bool IsNonDistributable(string mediaType) =>
        mediaType == DockerForeignLayer || mediaType.StartsWith(OciNonDistributablePrefix, StringComparison.Ordinal);
}
