namespace ImagePromotion.Registry;

/// <summary>The manifest media types the engine copies; anything else is refused by name.</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";

    /// <summary>Sent as Accept on every manifest request, so the registry never converts (and re-digests) a manifest.</summary>
    public static readonly string[] Manifests = { OciIndex, OciManifest, DockerManifestList, DockerManifest };

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsImageManifest(string mediaType) => mediaType is OciManifest or DockerManifest;

    public static bool IsKnownManifest(string mediaType) => IsIndex(mediaType) || IsImageManifest(mediaType);
}
