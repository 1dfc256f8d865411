using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImagePromotion.Evidence;
using ImagePromotion.Gates;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Records;

/// <summary>One gate's verdict as recorded.</summary>
/// <param name="Gate">The gate's name, with the image it judged when the release has several (<c>scan (worker)</c>).</param>
/// <param name="Passed">True when the gate let the promotion through.</param>
/// <param name="Reason">One line saying why.</param>
public sealed record GateRecord(string Gate, bool Passed, string Reason);

/// <summary>One image of a recorded release: where it went and which digest it carries.</summary>
/// <param name="Name">The image's name in the application.</param>
/// <param name="Reference">The target reference (registry/repository:tag).</param>
/// <param name="Digest">The digest the target now points at.</param>
/// <param name="PreviousDigest">What the target pointed at before; null when it was new.</param>
/// <param name="FromReference">Where the image came from.</param>
public sealed record ImageRecord(string Name, string Reference, string Digest, string? PreviousDigest = null, string? FromReference = null);

/// <summary>One review that counted toward the approvals gate, bound to the commit it approved.</summary>
public sealed record ApprovalRecord(string Login, string CommitId, DateTimeOffset SubmittedAt);

/// <summary>
/// The auditable record of one release (push, promotion, release tag, rollback) of an application into an
/// environment: who, when, from, to, every image with its digest, each gate's verdict, the approvals and the pull
/// request. Stored as evidence on each image's digest, appended to <c>promotions.jsonl</c> and written to the CI
/// step summary. <see cref="Digest"/>, <see cref="ToReference"/> and friends name the first image, as records of
/// single-image releases always did; <see cref="Images"/> lists them all.
/// </summary>
public sealed record PromotionRecord
{
    /// <summary>The schema this version writes and reads (fields added since are optional).</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>The schema version written.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    /// <summary>push (build into the first environment), promotion, release or rollback.</summary>
    public required string Kind { get; init; }
    /// <summary>promoted, refused or up-to-date.</summary>
    public required string Outcome { get; init; }
    /// <summary>The application (the service, in single-image configurations).</summary>
    public required string Service { get; init; }
    /// <summary>The first image's digest.</summary>
    public required string Digest { get; init; }
    /// <summary>The source environment; null for a push from the build.</summary>
    public string? From { get; init; }
    /// <summary>The first image's source reference.</summary>
    public string? FromReference { get; init; }
    /// <summary>The target environment.</summary>
    public required string To { get; init; }
    /// <summary>The first image's target reference.</summary>
    public required string ToReference { get; init; }
    /// <summary>Who ran it (CI actor or local git user).</summary>
    public required string Who { get; init; }
    /// <summary>When (UTC).</summary>
    public required DateTimeOffset When { get; init; }
    /// <summary>The commit built.</summary>
    public string? Commit { get; init; }
    /// <summary>The branch built.</summary>
    public string? Branch { get; init; }
    /// <summary>The CI run.</summary>
    public string? RunUrl { get; init; }
    /// <summary>What the target pointed at before (for a release: the previous release's digest).</summary>
    public string? PreviousDigest { get; init; }
    /// <summary>Each gate's verdict.</summary>
    public IReadOnlyList<GateRecord> Gates { get; init; } = [];
    /// <summary>The approvals that counted.</summary>
    public IReadOnlyList<ApprovalRecord> Approvals { get; init; } = [];
    /// <summary>The GitOps pull request.</summary>
    public string? PullRequestUrl { get; init; }
    /// <summary>Every image of the release; empty in records written before applications existed.</summary>
    public IReadOnlyList<ImageRecord> Images { get; init; } = [];

    /// <summary>The digest recorded for <paramref name="image"/> (for old single-image records: <see cref="Digest"/>).</summary>
    public string DigestOf(string image) => Images.FirstOrDefault(i => i.Name == image)?.Digest ?? Digest;

    /// <summary>
    /// The record as attached to one image of the release: its own digest and references in the top-level fields
    /// (evidence is verified against the digest it is attached to), every image still listed in <see cref="Images"/>.
    /// </summary>
    public PromotionRecord ForImage(ImageReference pinned)
    {
        var image = Images.FirstOrDefault(i => i.Digest == pinned.Digest?.ToString() && ImageReference.Parse(i.Reference).Repository == pinned.Repository);
        return image is null ? this : this with
        {
            Digest = image.Digest,
            ToReference = image.Reference,
            FromReference = image.FromReference ?? FromReference,
            PreviousDigest = image.PreviousDigest,
        };
    }

    /// <summary>The target reference recorded for <paramref name="image"/> (for old single-image records: <see cref="ToReference"/>).</summary>
    public string ReferenceOf(string image) => Images.FirstOrDefault(i => i.Name == image)?.Reference ?? ToReference;

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The records of a gate report's verdicts (gate names with the image they judged).</summary>
    public static IReadOnlyList<GateRecord> GatesOf(GateReport report) => report.Results.Select(r => new GateRecord(r.Label, r.Passed, r.Reason)).ToArray();

    /// <summary>The record's JSON (camelCase, UTC time).</summary>
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this with { When = When.ToUniversalTime() }, Options);

    /// <summary>Reads a record; a one-line error for anything else or another schema version.</summary>
    public static PromotionRecord FromJson(ReadOnlySpan<byte> json, string source = "promotion record")
    {
        PromotionRecord? record;
        try { record = JsonSerializer.Deserialize<PromotionRecord>(json, Options); }
        catch (JsonException ex) { throw new PromotionException($"{source}: not a promotion record ({ex.Message})"); }
        if (record is null || record.SchemaVersion != CurrentSchemaVersion)
            throw new PromotionException($"{source}: schemaVersion {record?.SchemaVersion} is not supported (this version reads {CurrentSchemaVersion})");
        return record;
    }

    /// <summary>The markdown for the CI step summary.</summary>
    public string ToMarkdown(Ci.BuildIdentity? identity = null)
    {
        var title = $"{Service}: {Kind} {(From is null ? "" : From + " → ")}{To} {Outcome}";
        var summary = new Ci.PromotionSummary(title);
        if (identity is not null) summary.WithRun(identity, RunUrl);
        if (Images.Count > 1) foreach (var image in Images) summary.AddDigest($"{To} ({image.Name})", image.Reference, image.Digest);
        else summary.AddDigest(To, ToReference, Digest);
        foreach (var g in Gates) summary.AddGate(g.Gate, g.Passed ? "passed" : "failed", g.Reason);
        summary.WithPullRequest(PullRequestUrl);
        summary.AddNote($"by {Who} at {When.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        if (PreviousDigest is not null) summary.AddNote($"replaced {PreviousDigest}");
        if (Approvals.Count > 0) summary.AddNote("approved by " + string.Join(", ", Approvals.Select(a => $"{a.Login} (on {a.CommitId[..Math.Min(12, a.CommitId.Length)]})")));
        return summary.ToMarkdown();
    }
}

/// <summary>Writes a record everywhere it belongs: next to each image (evidence), and to <c>promotions.jsonl</c>.</summary>
public sealed class PromotionRecorder(PromotionSession session, TimeProvider? clock = null)
{
    /// <summary>The journal's file name in the artifacts directory.</summary>
    public const string JournalFile = "promotions.jsonl";

    /// <summary>The journal's path.</summary>
    public string JournalPath => Path.Combine(session.ArtifactsDirectory, JournalFile);

    /// <param name="attachTo">The image (with digest) the record is attached to; null: only the journal (e.g. a refusal, which writes nothing to the target).</param>
    /// <param name="record">The record to write.</param>
    /// <param name="ct">Cancels the writes.</param>
    public Task RecordAsync(PromotionRecord record, ImageReference? attachTo, CancellationToken ct) =>
        RecordAsync(record, attachTo is null ? [] : [attachTo], ct);

    /// <summary>Appends the record to the journal once and attaches it to every image in <paramref name="attachTo"/>.</summary>
    public async Task RecordAsync(PromotionRecord record, IReadOnlyList<ImageReference> attachTo, CancellationToken ct)
    {
        if (session.DryRun)
        {
            session.Log.Information($"dry run: would record the {record.Kind} of {record.Digest} to {record.To}");
            return;
        }
        Directory.CreateDirectory(session.ArtifactsDirectory);
        var line = JsonSerializer.Serialize(JsonDocument.Parse(record.ToJsonBytes()).RootElement) + "\n";
        await File.AppendAllTextAsync(JournalPath, line, ct).ConfigureAwait(false);
        foreach (var image in attachTo)
        {
            var store = new EvidenceStore(session.Transport, session.Log, clock, session.Signers);
            var piece = new EvidencePiece(EvidenceTypes.PromotionRecord, record.ForImage(image).ToJsonBytes())
            {
                // The push record is written by the build job, which holds the build key only.
                Role = record.Kind == "push" ? Evidence.Attestations.KeyRole.Build : null,
                Annotations = new Dictionary<string, string>
                {
                    ["org.imagepromotion.kind"] = record.Kind, ["org.imagepromotion.environment"] = record.To, ["org.imagepromotion.outcome"] = record.Outcome,
                },
            };
            var pushed = await store.PushAsync(image, piece, ct).ConfigureAwait(false);
            session.Log.Information($"record: {record.Kind} {record.From ?? "build"} -> {record.To} of {image.Digest} by {record.Who} attached as {pushed.Digest}");
        }
    }

    /// <summary>Every promotion record attached to an image whose structure verifies, signed or not, oldest first.</summary>
    public Task<IReadOnlyList<PromotionRecord>> ReadAsync(ImageReference image, CancellationToken ct) => ReadAsync(image, null, ct);

    /// <summary>
    /// The promotion records attached to an image, oldest first: those signed by a key of <paramref name="trusted"/>
    /// when given, else every one whose structure verifies, signed or not (a listing, never what a gate counts: gates
    /// read <see cref="Gating.TrustedGateEvidence"/>).
    /// </summary>
    public async Task<IReadOnlyList<PromotionRecord>> ReadAsync(ImageReference image, TrustedKeys? trusted, CancellationToken ct)
    {
        var store = new EvidenceStore(session.Transport, session.Log, clock);
        if (trusted is not null)
        {
            var judged = await store.ReadAsync(image, Evidence.Attestations.EvidenceKind.PromotionRecord, trusted, ct).ConfigureAwait(false);
            var signed = new List<PromotionRecord>();
            foreach (var piece in judged.Where(p => p.IsTrusted))
            {
                try { signed.Add(PromotionRecord.FromJson(piece.Predicate!, $"record {piece.Entry.Manifest.Digest}")); }
                catch (PromotionException ex) { session.Log.Warning(ex.Message); }
            }
            return signed.OrderBy(r => r.When).ToArray();
        }
        var verified = await store.ReadVerifiedAsync(image, EvidenceTypes.PromotionRecord, ct).ConfigureAwait(false);
        var records = new List<PromotionRecord>();
        foreach (var v in verified)
        {
            try { records.Add(PromotionRecord.FromJson(v.Content!, $"record {v.Entry.Manifest.Digest}")); }
            catch (PromotionException ex) { session.Log.Warning(ex.Message); }
        }
        return records.OrderBy(r => r.When).ToArray();
    }
}
