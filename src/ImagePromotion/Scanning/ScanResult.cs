using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImagePromotion.Registry;

namespace ImagePromotion.Scanning;

/// <summary>A scanner that ran: built-in checks or an external tool. A failed scanner fails the scan.</summary>
public sealed record ScannerRun(string Name, bool Succeeded, int Findings, string? FailureReason = null);

/// <summary>
/// The one scan result for an image digest. Its JSON is deterministic (fixed property order, findings sorted,
/// UTC time) because it is pushed as an OCI artifact: the same scan must give the same bytes and digest.
/// </summary>
public sealed record ScanResult
{
    /// <summary>The artifact type to push it under, next to the image it describes.</summary>
    public const string ArtifactMediaType = "application/vnd.imagepromotion.scan-result.v1+json";
    /// <summary>The <see cref="SchemaVersion"/> this version writes and reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Version of the JSON shape; a result of another version is refused when read.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    /// <summary>The scanned manifest digest, <c>sha256:…</c>.</summary>
    public required string ImageDigest { get; init; }
    /// <summary>When the scan completed (written in UTC).</summary>
    public required DateTimeOffset ScannedAt { get; init; }
    /// <summary>True when no threshold was exceeded and no scanner failed.</summary>
    public required bool Passed { get; init; }
    /// <summary>Why it failed (thresholds, failed scanners) and what a reader must know (expired allowlist entries, skips).</summary>
    public required IReadOnlyList<string> Reasons { get; init; }
    /// <summary>Every scanner that ran, with its outcome and finding count.</summary>
    public required IReadOnlyList<ScannerRun> ScannersRun { get; init; }
    /// <summary>Scanners that were not run, and why.</summary>
    public required IReadOnlyList<SkippedScanner> ScannersSkipped { get; init; }
    /// <summary>Counted findings per severity (allowlisted ones excluded).</summary>
    public required SeverityCounts Counts { get; init; }
    /// <summary>Findings an active allowlist entry covered.</summary>
    public int Allowlisted { get; init; }
    /// <summary>Every finding, worst first, allowlisted ones marked.</summary>
    public required IReadOnlyList<Finding> Findings { get; init; }
    /// <summary>The rules, thresholds, allowlist and required scanners that judged it; null in results of earlier versions.</summary>
    [JsonPropertyName("policy")]
    public ScanJudgement? Judgement { get; init; }
    /// <summary>
    /// Set by <see cref="ScanJudgement.Rejudge"/> when the findings cannot be trusted to be complete under the reviewing
    /// policy (a rule it needs was off or counted lower, or the judgement is unknown): its counts are then unknown facts.
    /// </summary>
    [JsonIgnore]
    public bool Incomplete { get; init; }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        // The artifact is read by tools and people, never embedded in HTML: keep '+' and quotes readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    /// <summary>The result as indented camelCase JSON, time in UTC: the same result always gives the same bytes.</summary>
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this with { ScannedAt = ScannedAt.ToUniversalTime() }, Options);

    /// <summary>Reads a result written by <see cref="ToJsonBytes"/>.</summary>
    /// <exception cref="PromotionException">Not JSON of this shape, another schema version, or an image digest that is not a digest.</exception>
    public static ScanResult FromJson(ReadOnlySpan<byte> json, string source = "scan result")
    {
        ScanResult? result;
        try { result = JsonSerializer.Deserialize<ScanResult>(json, Options); }
        catch (JsonException ex)
        {
            throw new PromotionException($"{source}: not a scan result ({ex.Message}); expected the JSON written by ScanResult.ToJsonBytes");
        }
        if (result is null)
            throw new PromotionException($"{source}: is JSON null; expected a scan result object");
        if (result.SchemaVersion != CurrentSchemaVersion)
            throw new PromotionException($"{source}: schemaVersion {result.SchemaVersion} is not supported (this version reads {CurrentSchemaVersion}); upgrade the pipeline module");
        if (!Digest.TryParse(result.ImageDigest, out _))
            throw new PromotionException($"{source}: imageDigest '{result.ImageDigest}' is not a digest (sha256:<64 hex>)");
        return result;
    }

    /// <summary>A few lines for a log or a pull request comment.</summary>
    public string ToSummary(int maxFindings = 5)
    {
        var text = new StringBuilder();
        text.Append($"scan {ImageDigest}: {(Passed ? "PASSED" : "FAILED")} at {ScannedAt.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}\n");
        text.Append("counts: ").AppendJoin(", ", SeverityText.WorstFirst.Select(s => $"{s.Name()} {Counts[s]}"));
        if (Allowlisted > 0) text.Append($" ({Allowlisted} allowlisted)");
        text.Append('\n');
        text.Append("scanners: ").AppendJoin(", ", ScannersRun.Select(r => r.Succeeded ? $"{r.Name} ({r.Findings})" : $"{r.Name} (FAILED)"));
        if (ScannersSkipped.Count > 0)
            text.Append("; skipped: ").AppendJoin(", ", ScannersSkipped.Select(s => $"{s.Name} ({s.Reason})"));
        text.Append('\n');
        foreach (var reason in Reasons) text.Append("- ").Append(reason).Append('\n');
        foreach (var f in Findings.Where(f => !f.Allowlisted).Take(maxFindings))
        {
            var where = f.Package is not null ? $" in {f.Package} {f.InstalledVersion}" + (f.FixedVersion is null ? "" : $" (fixed in {f.FixedVersion})")
                : f.Path is not null ? $" at {f.Path}" + (f.Line is null ? "" : $":{f.Line}") : "";
            text.Append($"  {f.Severity.Name()} {f.Id}{where}: {f.Title}\n");
        }
        return text.ToString().TrimEnd('\n');
    }
}
