using System.Text.Json;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Evidence;

/// <summary>What the Evidence target found for one image: the digest and each piece with its verdict.</summary>
public sealed record EvidenceInspection(ImageReference Image, IReadOnlyList<JudgedEvidence> Pieces)
{
    /// <summary>Pieces that show tampering or damage: a bad signature, another subject, the wrong kind, unreadable. Unsigned and untrusted pieces are listed, not failures.</summary>
    public IReadOnlyList<JudgedEvidence> Failed => Pieces.Where(p => p.Entry.Format != EvidenceFormat.Other
        && p.Verdict.Trust is EvidenceTrust.BadSignature or EvidenceTrust.OtherSubject or EvidenceTrust.WrongKind or EvidenceTrust.Malformed).ToArray();

    /// <summary>Throws when any piece failed verification (see <see cref="Failed"/>); unsigned and untrusted pieces do not.</summary>
    /// <exception cref="PromotionException">One line listing each failed piece's digest, verdict and reason.</exception>
    public void ThrowIfAnyFailed()
    {
        if (Failed.Count == 0) return;
        throw new PromotionException($"{Failed.Count} of {Pieces.Count} evidence piece(s) on {Image} failed verification: "
            + string.Join("; ", Failed.Select(f => $"{f.Entry.Manifest.Digest} ({f.Verdict.Word}: {f.Verdict.Reason})")) + ": do not trust them; re-create the evidence from a trusted run");
    }
}

/// <summary>
/// Lists the evidence attached to an image, verifies each piece (structure, then signature against the trusted keys)
/// and prints kind, signer key id and verdict, so anyone with registry access can check what a gate would count.
/// </summary>
public sealed class EvidenceInspector(RegistryTransport transport, IPipelineLog log)
{
    /// <param name="trusted">The keys to verify signatures with; <see cref="TrustedKeys.None"/>: no trust configured, nothing is trusted.</param>
    /// <param name="trustSource">Where the trusted keys came from, for the header line.</param>
    /// <param name="image">The image whose evidence is listed, by tag or digest; a tag is resolved to its digest first.</param>
    /// <param name="ct">Cancels the registry reads.</param>
    public async Task<EvidenceInspection> InspectAsync(ImageReference image, TrustedKeys trusted, string trustSource, CancellationToken ct)
    {
        var client = new RegistryClient(transport, image.Registry);
        var digest = image.Digest ?? (await client.HeadManifestAsync(image.Repository, image.Identifier, ct).ConfigureAwait(false))?.Digest
            ?? throw new PromotionException($"{image} does not exist: pass --image=REF of an existing image");
        var pinned = image.WithTagAndDigest(image.Tag, digest);
        var store = new EvidenceStore(transport, log);
        var entries = await store.ListAsync(image.WithDigest(digest), (EvidenceKind?)null, ct).ConfigureAwait(false);
        var pieces = new List<JudgedEvidence>();
        foreach (var entry in entries) pieces.Add(await store.JudgeAsync(image.WithDigest(digest), entry, trusted, null, ct).ConfigureAwait(false));

        log.Information($"evidence attached to {pinned}: {pieces.Count} piece(s)");
        log.Information(trusted.IsEmpty ? "no trust configured: signatures are not checked against any key (pass --trusted-key=PATH, repeatable); nothing is trusted"
            : $"trusted keys: {trustSource}");
        if (pieces.Count > 0)
        {
            log.Information($"{"VERDICT",-13}  {"KIND",-17}  {"SIGNER KEY",-44}  {"CREATED",-20}  {"MANIFEST",-19}  DETAIL");
            foreach (var p in pieces)
            {
                var when = p.Entry.Created is { } c ? c.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + "Z" : "(no date)";
                var kind = p.Entry.Format == EvidenceFormat.Other ? "(not evidence)" : p.Verdict.Kind?.Name ?? p.Entry.Description;
                var detail = p.Entry.Format == EvidenceFormat.Other ? LogText.Inline(p.Entry.Description)
                    : p.IsTrusted ? Gist(p) : LogText.Inline(p.Verdict.Reason);
                var manifest = p.Entry.Manifest.Digest.ToString()[..19];
                var verdict = p.Entry.Format == EvidenceFormat.Other ? "-" : p.Verdict.Word;
                var key = p.Verdict.KeyId is { Length: > 0 } k ? LogText.Inline(k) : "-";
                log.Information($"{verdict,-13}  {kind,-17}  {key,-44}  {when,-20}  {manifest,-19}  {detail}");
            }
        }
        var judged = pieces.Where(p => p.Entry.Format != EvidenceFormat.Other).ToArray();
        log.Information(judged.Length == 0 ? "no evidence of this pipeline is attached to this digest"
            : string.Join(", ", judged.GroupBy(p => p.Verdict.Word).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"))
              + (judged.Any(p => p.Verdict.Trust == EvidenceTrust.Unsigned) ? "; unsigned pieces are never counted: renew them as each line says" : ""));
        return new EvidenceInspection(pinned, pieces);
    }

    /// <summary>One line of what a trusted piece says; every value from the piece is untrusted text for the log.</summary>
    private static string Gist(JudgedEvidence p)
    {
        try
        {
            var kind = p.Verdict.Kind;
            if (kind == EvidenceKind.ScanResult)
            {
                var scan = Scanning.ScanResult.FromJson(p.Predicate!);
                return $"{(scan.Passed ? "passed" : "FAILED")}: critical {scan.Counts.Critical}, high {scan.Counts.High}, medium {scan.Counts.Medium}, low {scan.Counts.Low}"
                    + $" by {LogText.Quote(string.Join("+", scan.ScannersRun.Select(r => r.Name)))}";
            }
            using var doc = JsonDocument.Parse(p.Predicate!);
            var r = doc.RootElement;
            string S(string n) => r.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            if (kind == EvidenceKind.ApprovalDecision)
                return $"approved by {LogText.Quote(S("login"))} for {LogText.Quote(S("environment"))} on {LogText.Quote(S("commitId")[..Math.Min(12, S("commitId").Length)])}";
            if (kind == EvidenceKind.PromotionRecord)
                return $"{LogText.Quote(S("kind"))} {(S("from").Length > 0 ? LogText.Quote(S("from")) + " -> " : "")}{LogText.Quote(S("to"))} {LogText.Quote(S("outcome"))} by {LogText.Quote(S("who"))}";
            if (kind == EvidenceKind.BuildProvenance)
                return "built by " + LogText.Quote(BuildProvenance.BuilderId(r) ?? "") + " from " + LogText.Quote(BuildProvenance.SourceSummary(r) ?? "");
            return "trusted";
        }
        catch (Exception ex) when (ex is PromotionException or JsonException or InvalidOperationException) { return "trusted (content not readable: " + LogText.Inline(ex.Message) + ")"; }
    }
}
