using System.Text.Json;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Evidence;

/// <summary>What the Evidence target found for one image: the digest and each piece with its verdict.</summary>
public sealed record EvidenceInspection(ImageReference Image, IReadOnlyList<VerifiedEvidence> Pieces)
{
    public IReadOnlyList<VerifiedEvidence> Failed => Pieces.Where(p => !p.Verified).ToArray();

    public void ThrowIfAnyFailed()
    {
        if (Failed.Count == 0) return;
        throw new PromotionException($"{Failed.Count} of {Pieces.Count} evidence piece(s) on {Image} failed verification: "
            + string.Join("; ", Failed.Select(f => $"{f.Entry.Manifest.Digest} ({f.Detail})")) + ": do not trust them; re-create the evidence from a trusted run");
    }
}

/// <summary>Lists the evidence attached to an image and verifies that each piece refers to its digest.</summary>
public sealed class EvidenceInspector(RegistryTransport transport, IPipelineLog log)
{
    public async Task<EvidenceInspection> InspectAsync(ImageReference image, CancellationToken ct)
    {
        var client = new RegistryClient(transport, image.Registry);
        var digest = image.Digest ?? (await client.HeadManifestAsync(image.Repository, image.Identifier, ct).ConfigureAwait(false))?.Digest
            ?? throw new PromotionException($"{image} does not exist: pass --image=REF of an existing image");
        var pinned = image.WithTagAndDigest(image.Tag, digest);
        var store = new EvidenceStore(transport, log);
        var entries = await store.ListAsync(image.WithDigest(digest), null, ct).ConfigureAwait(false);
        var pieces = new List<VerifiedEvidence>();
        foreach (var entry in entries) pieces.Add(await store.VerifyAsync(image.WithDigest(digest), entry, ct).ConfigureAwait(false));

        log.Information($"evidence attached to {pinned}: {pieces.Count} piece(s)");
        foreach (var p in pieces)
        {
            var when = p.Entry.Created is { } c ? c.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + "Z" : "(no date)";
            log.Information($"{(p.Verified ? "OK  " : "FAIL")}  {p.Entry.Kind,-18} {when}  {p.Entry.Manifest.Digest}  {(p.Verified ? Gist(p) : p.Detail)}");
        }
        log.Information(pieces.Count == 0 ? "no evidence is attached to this digest"
            : pieces.All(p => p.Verified) ? $"all {pieces.Count} piece(s) refer to {digest} and verify" : $"{pieces.Count(p => !p.Verified)} piece(s) FAILED verification");
        return new EvidenceInspection(pinned, pieces);
    }

    /// <summary>One line of what a verified piece says.</summary>
    private static string Gist(VerifiedEvidence p)
    {
        try
        {
            switch (p.Entry.ArtifactType)
            {
                case EvidenceTypes.ScanResult:
                    var scan = Scanning.ScanResult.FromJson(p.Content!);
                    return $"{(scan.Passed ? "passed" : "FAILED")}: critical {scan.Counts.Critical}, high {scan.Counts.High}, medium {scan.Counts.Medium}, low {scan.Counts.Low}";
                case EvidenceTypes.PromotionRecord or EvidenceTypes.ApprovalDecision:
                    using (var doc = JsonDocument.Parse(p.Content!))
                    {
                        var r = doc.RootElement;
                        string S(string n) => r.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
                        return p.Entry.ArtifactType == EvidenceTypes.ApprovalDecision
                            ? $"approved by {S("login")} for {S("environment")} on {S("commitId")[..Math.Min(12, S("commitId").Length)]}"
                            : $"{S("kind")} {(S("from").Length > 0 ? S("from") + " -> " : "")}{S("to")} {S("outcome")} by {S("who")}";
                    }
                default:
                    return "verified";
            }
        }
        catch (Exception ex) when (ex is PromotionException or JsonException) { return "verified (content not readable: " + ex.Message + ")"; }
    }
}
