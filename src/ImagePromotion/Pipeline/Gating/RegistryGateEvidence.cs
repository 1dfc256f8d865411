using ImagePromotion.Evidence;
using ImagePromotion.Gates;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Pipeline.Gating;

/// <summary>
/// The gates' evidence seam as it stands today: the verified OCI artifacts attached to a digest (plus, in a dry
/// run, what earlier phases of the plan would attach). Each image's evidence is read once per judgement, however
/// many gates ask for it.
/// </summary>
public sealed class RegistryGateEvidence(PromotionSession session, TimeProvider clock) : IGateEvidence
{
    private readonly Dictionary<string, Task<IReadOnlyList<PromotionRecord>>> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<IReadOnlyList<ScanResult>>> _scans = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<IReadOnlyList<ScanResult>> ScanResultsAsync(ImageReference image, CancellationToken ct)
    {
        lock (_scans)
            return _scans.TryGetValue(image.ToString(), out var cached) ? cached : _scans[image.ToString()] = ReadScansAsync(image, ct);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PromotionRecord>> PromotionRecordsAsync(ImageReference image, CancellationToken ct)
    {
        lock (_records)
            return _records.TryGetValue(image.ToString(), out var cached) ? cached : _records[image.ToString()] = ReadRecordsAsync(image, ct);
    }

    private async Task<IReadOnlyList<ScanResult>> ReadScansAsync(ImageReference image, CancellationToken ct)
    {
        var verified = await new EvidenceStore(session.Transport, session.Log, clock).ReadVerifiedAsync(image, EvidenceTypes.ScanResult, ct).ConfigureAwait(false);
        var results = new List<ScanResult>();
        foreach (var v in verified)
        {
            try { results.Add(ScanResult.FromJson(v.Content!, $"scan result {v.Entry.Manifest.Digest}")); }
            catch (PromotionException ex) { session.Log.Warning(ex.Message); }
        }
        results.AddRange(session.Planned.Scans(image));
        return results;
    }

    private async Task<IReadOnlyList<PromotionRecord>> ReadRecordsAsync(ImageReference image, CancellationToken ct)
    {
        var records = (await new PromotionRecorder(session, clock).ReadAsync(image, ct).ConfigureAwait(false)).ToList();
        records.AddRange(session.Planned.Records(image));
        return records.OrderBy(r => r.When).ToArray();
    }
}
