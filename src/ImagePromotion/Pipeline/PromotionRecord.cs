using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImagePromotion.Evidence;
using ImagePromotion.Gates;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline;

/// <summary>One gate's verdict as recorded.</summary>
public sealed record GateRecord(string Gate, bool Passed, string Reason);

/// <summary>One review that counted toward the approvals gate, bound to the commit it approved.</summary>
public sealed record ApprovalRecord(string Login, string CommitId, DateTimeOffset SubmittedAt);

/// <summary>
/// The auditable record of one promotion (or push, release tag, rollback): who, when, from, to, which digest,
/// each gate's verdict, the approvals and the pull request. Stored as evidence on the digest, appended to
/// <c>promotions.jsonl</c> and written to the CI step summary.
/// </summary>
public sealed record PromotionRecord
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    /// <summary>push (build into the first environment), promotion, release or rollback.</summary>
    public required string Kind { get; init; }
    /// <summary>promoted, refused or up-to-date.</summary>
    public required string Outcome { get; init; }
    public required string Service { get; init; }
    public required string Digest { get; init; }
    public string? From { get; init; }
    public string? FromReference { get; init; }
    public required string To { get; init; }
    public required string ToReference { get; init; }
    public required string Who { get; init; }
    public required DateTimeOffset When { get; init; }
    public string? Commit { get; init; }
    public string? Branch { get; init; }
    public string? RunUrl { get; init; }
    /// <summary>What the target pointed at before (for a release: the previous release's digest).</summary>
    public string? PreviousDigest { get; init; }
    public IReadOnlyList<GateRecord> Gates { get; init; } = [];
    public IReadOnlyList<ApprovalRecord> Approvals { get; init; } = [];
    public string? PullRequestUrl { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IReadOnlyList<GateRecord> GatesOf(GateReport report) => report.Results.Select(r => new GateRecord(r.Gate, r.Passed, r.Reason)).ToArray();

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this with { When = When.ToUniversalTime() }, Options);

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
        summary.AddDigest(To, ToReference, Digest);
        foreach (var g in Gates) summary.AddGate(g.Gate, g.Passed ? "passed" : "failed", g.Reason);
        summary.WithPullRequest(PullRequestUrl);
        summary.AddNote($"by {Who} at {When.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        if (PreviousDigest is not null) summary.AddNote($"replaced {PreviousDigest}");
        if (Approvals.Count > 0) summary.AddNote("approved by " + string.Join(", ", Approvals.Select(a => $"{a.Login} (on {a.CommitId[..Math.Min(12, a.CommitId.Length)]})")));
        return summary.ToMarkdown();
    }
}

/// <summary>Writes a record everywhere it belongs: next to the image (evidence), and to <c>promotions.jsonl</c>.</summary>
public sealed class PromotionRecorder(PromotionSession session, TimeProvider? clock = null)
{
    public const string JournalFile = "promotions.jsonl";

    public string JournalPath => Path.Combine(session.ArtifactsDirectory, JournalFile);

    /// <param name="attachTo">The image (with digest) the record is attached to; null: only the journal (e.g. a refusal, which writes nothing to the target).</param>
    public async Task RecordAsync(PromotionRecord record, ImageReference? attachTo, CancellationToken ct)
    {
        if (session.DryRun)
        {
            session.Log.Information($"dry run: would record the {record.Kind} of {record.Digest} to {record.To}");
            return;
        }
        Directory.CreateDirectory(session.ArtifactsDirectory);
        var line = JsonSerializer.Serialize(JsonDocument.Parse(record.ToJsonBytes()).RootElement) + "\n";
        await File.AppendAllTextAsync(JournalPath, line, ct).ConfigureAwait(false);
        if (attachTo is not null)
        {
            var store = new EvidenceStore(session.Transport, session.Log, clock, session.Signers);
            var piece = new EvidencePiece(EvidenceTypes.PromotionRecord, record.ToJsonBytes())
            {
                // The push record is written by the build job, which holds the build key only.
                Role = record.Kind == "push" ? Evidence.Attestations.KeyRole.Build : null,
                Annotations = new Dictionary<string, string>
                {
                    ["org.imagepromotion.kind"] = record.Kind, ["org.imagepromotion.environment"] = record.To, ["org.imagepromotion.outcome"] = record.Outcome,
                },
            };
            var pushed = await store.PushAsync(attachTo, piece, ct).ConfigureAwait(false);
            session.Log.Information($"record: {record.Kind} {record.From ?? "build"} -> {record.To} of {record.Digest} by {record.Who} attached as {pushed.Digest}");
        }
    }

    /// <summary>The verified promotion records attached to an image, oldest first.</summary>
    public async Task<IReadOnlyList<PromotionRecord>> ReadAsync(ImageReference image, CancellationToken ct)
    {
        var store = new EvidenceStore(session.Transport, session.Log, clock);
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
