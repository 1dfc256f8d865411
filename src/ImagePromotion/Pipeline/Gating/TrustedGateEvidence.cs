using ImagePromotion.Configuration;
using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Gates;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Pipeline.Gating;

/// <summary>
/// The gates' evidence for promotions into one environment: the signed statements attached to a digest that verify
/// against the keys <c>environments.NAME.trust</c> names for their kind (plus, in a dry run, what earlier phases of the
/// plan would attach). Everything else is named in <see cref="EvidenceReading{T}.Ignored"/> and never counted. Scan
/// results are re-judged under the reviewed <c>scan:</c> policy of the file, whatever policy the scanning job ran.
/// Each image's evidence is read once per judgement, however many gates ask for it.
/// </summary>
/// <remarks>
/// Which trusted result wins is the gates' rule, not this reader's: the newest trusted scan decides (an untrusted
/// pass is never seen, so it cannot outvote a trusted failure), and the staging history is the trusted records only.
/// </remarks>
public sealed class TrustedGateEvidence(PromotionSession session, TimeProvider clock, string environment) : IGateEvidence
{
    private readonly Dictionary<string, Task<EvidenceReading<PromotionRecord>>> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<EvidenceReading<ScanResult>>> _scans = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<EvidenceReading<ScanResult>> ScanResultsAsync(ImageReference image, CancellationToken ct)
    {
        lock (_scans)
            return _scans.TryGetValue(image.ToString(), out var cached) ? cached : _scans[image.ToString()] = ReadScansAsync(image, ct);
    }

    /// <inheritdoc />
    public Task<EvidenceReading<PromotionRecord>> PromotionRecordsAsync(ImageReference image, CancellationToken ct)
    {
        lock (_records)
            return _records.TryGetValue(image.ToString(), out var cached) ? cached : _records[image.ToString()] = ReadRecordsAsync(image, ct);
    }

    private TrustedKeys Trusted => session.TrustFor(environment);

    /// <summary>Says once, after an ignored piece, that the environment trusts no key for the kind: the fix is in the file.</summary>
    private string NoKeyHint(EvidenceKind kind) => Trusted.For(kind).Count > 0 ? ""
        : session.Config.TrustOf(environment) is { } trust ? $" ({trust.Origin}.{TrustSettings.KeyOf(kind)} names no key)"
        : $" (no trust section applies to {environment}: name the public keys under environments.{environment}.trust or a top-level trust)";

    private async Task<EvidenceReading<ScanResult>> ReadScansAsync(ImageReference image, CancellationToken ct)
    {
        var pieces = await new EvidenceStore(session.Transport, session.Log, clock).ReadAsync(image, EvidenceKind.ScanResult, Trusted, ct).ConfigureAwait(false);
        var settings = session.Config.Scan;
        var by = $"the {environment} policy ({Path.GetFileName(session.Config.Source)}: scan)";
        var counted = new List<ScanResult>();
        var ignored = new List<string>();
        foreach (var piece in pieces)
        {
            if (!piece.IsTrusted) { ignored.Add(piece.Verdict.Reason + NoKeyHint(EvidenceKind.ScanResult)); continue; }
            ScanResult result;
            try { result = ScanResult.FromJson(piece.Predicate!, $"scan result {piece.Entry.Manifest.Digest}"); }
            catch (PromotionException ex) { ignored.Add(ex.Message); continue; }
            counted.Add(ScanJudgement.Rejudge(result, settings?.Policy ?? ScanPolicy.Default, settings?.Rules ?? BuiltInRuleSettings.Default,
                settings?.Scanners, clock.GetUtcNow(), by));
        }
        counted.AddRange(session.Planned.Scans(image));
        return new EvidenceReading<ScanResult>(counted, ignored);
    }

    private async Task<EvidenceReading<PromotionRecord>> ReadRecordsAsync(ImageReference image, CancellationToken ct)
    {
        // The push record is the build job's (signed with the build key); every other record is a promoting job's.
        var promotionKeys = Trusted.For(EvidenceKind.PromotionRecord);
        var buildKeys = Trusted.For(EvidenceKind.BuildProvenance);
        var either = new TrustedKeys(new Dictionary<EvidenceKind, IReadOnlyList<VerificationKey>>
        {
            [EvidenceKind.PromotionRecord] = promotionKeys.Concat(buildKeys).ToArray(),
        });
        var pieces = await new EvidenceStore(session.Transport, session.Log, clock).ReadAsync(image, EvidenceKind.PromotionRecord, either, ct).ConfigureAwait(false);
        var records = new List<PromotionRecord>();
        var ignored = new List<string>();
        foreach (var piece in pieces)
        {
            if (!piece.IsTrusted)
            {
                ignored.Add(piece.Verdict.Reason + (promotionKeys.Count + buildKeys.Count == 0 ? NoKeyHint(EvidenceKind.PromotionRecord) : ""));
                continue;
            }
            PromotionRecord record;
            try { record = PromotionRecord.FromJson(piece.Predicate!, $"record {piece.Entry.Manifest.Digest}"); }
            catch (PromotionException ex) { ignored.Add(ex.Message); continue; }
            var key = piece.Verdict.KeyId;
            var push = record.Kind == "push";
            if (push ? buildKeys.All(k => k.KeyId != key) : promotionKeys.All(k => k.KeyId != key))
            {
                ignored.Add(push
                    ? $"push record about {image.Digest} signed by key {key}, which is not trusted for build provenance (push records are the build job's)"
                    : $"{record.Kind} record to {record.To} about {image.Digest} signed by key {key}, which is trusted for push records only, not for promotion records");
                continue;
            }
            records.Add(record);
        }
        records.AddRange(session.Planned.Records(image));
        return new EvidenceReading<PromotionRecord>(records.OrderBy(r => r.When).ToArray(), ignored);
    }
}
