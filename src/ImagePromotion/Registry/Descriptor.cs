namespace ImagePromotion.Registry;

/// <summary>An OCI content descriptor: what a manifest says about one child.</summary>
public sealed record Descriptor(string MediaType, Digest Digest, long Size)
{
    /// <summary>"linux/amd64" style, for index children that carry a platform.</summary>
    public string? Platform { get; init; }
    /// <summary>The artifact type, for descriptors of artifacts (OCI image spec v1.1), e.g. in a referrers index.</summary>
    public string? ArtifactType { get; init; }
    /// <summary>The descriptor's annotations; null when it has none.</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    /// <summary>Where a non-distributable (foreign) layer can be fetched from instead of the registry.</summary>
    public IReadOnlyList<string>? Urls { get; init; }
}
