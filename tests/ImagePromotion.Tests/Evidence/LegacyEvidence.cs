using ImagePromotion.Evidence;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Tests.Evidence;

/// <summary>Writes evidence the way earlier (unsigned) versions did, or as an attacker with push rights would: raw artifacts.</summary>
internal static class LegacyEvidence
{
    /// <summary>An artifact manifest of <paramref name="artifactType"/> holding <paramref name="content"/>, attached to <paramref name="image"/>.</summary>
    public static async Task<Descriptor> AttachAsync(RegistryTransport transport, ImageReference image, string artifactType, byte[] content,
        IReadOnlyDictionary<string, string>? annotations = null)
    {
        var referrers = new ReferrersClient(transport, image.Registry);
        var subject = (await referrers.Client.GetManifestAsync(image.Repository, image.Digest!.Value.ToString(), image.Digest, CancellationToken.None))!.ToDescriptor();
        var artifact = EvidenceArtifact.Build(subject, new EvidencePiece(artifactType, content) { Annotations = annotations ?? new Dictionary<string, string>() },
            DateTimeOffset.UtcNow);
        await referrers.EnsureBlobAsync(image.Repository, EvidenceArtifact.EmptyDescriptor, EvidenceArtifact.EmptyConfig, CancellationToken.None);
        await referrers.EnsureBlobAsync(image.Repository, artifact.Blobs[1], content, CancellationToken.None);
        await referrers.PutManifestAsync(image.Repository, artifact, CancellationToken.None);
        await referrers.AddToFallbackAsync(image.Repository, image.Digest.Value, [EvidenceArtifact.ReferrerDescriptor(artifact)], CancellationToken.None);
        return artifact.ToDescriptor();
    }
}
