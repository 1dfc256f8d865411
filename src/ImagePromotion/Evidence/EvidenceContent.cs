using System.Text.Json;
using ImagePromotion.Registry;

namespace ImagePromotion.Evidence;

/// <summary>
/// A manifest's subject says which image the artifact is attached to; the content must say the same, or a
/// scan of one image could be re-attached to another. Checks the kinds this pipeline writes.
/// </summary>
public static class EvidenceContent
{
    /// <summary>Null when the content is consistent with <paramref name="image"/>, else why not.</summary>
    public static string? Check(string? artifactType, byte[] content, Digest image)
    {
        switch (artifactType)
        {
            case EvidenceTypes.ScanResult:
                try
                {
                    var scan = Scanning.ScanResult.FromJson(content, "scan result evidence");
                    return scan.ImageDigest == image.ToString() ? null : $"the scan result is about {scan.ImageDigest}, not {image}";
                }
                catch (PromotionException ex) { return ex.Message; }
            case EvidenceTypes.PromotionRecord or EvidenceTypes.ApprovalDecision:
                try
                {
                    using var doc = JsonDocument.Parse(content);
                    var digest = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("digest", out var d) ? d.GetString() : null;
                    return digest == image.ToString() ? null : $"the {EvidenceTypes.Describe(artifactType)} is about {digest ?? "no digest"}, not {image}";
                }
                catch (JsonException ex) { return $"the {EvidenceTypes.Describe(artifactType)} is not JSON ({ex.Message})"; }
            default:
                return null; // someone else's artifact (a signature, an SBOM): its subject and blob digests were checked
        }
    }
}
