using System.Text.Json;

namespace ImagePromotion.Scanning;

/// <summary>The vulnerability report formats read.</summary>
public enum ReportFormat
{
    /// <summary>Trivy's JSON report (<c>trivy image --format json</c>).</summary>
    Trivy,
    /// <summary>Grype's JSON report (<c>grype --output json</c>).</summary>
    Grype,
    /// <summary>SARIF 2.1.0, as many scanners can write.</summary>
    Sarif,
}

/// <summary>A vulnerability report read into findings; <see cref="Tool"/> is what the report says produced it.</summary>
public sealed record ScanReport(ReportFormat Format, string Tool, IReadOnlyList<Finding> Findings);

/// <summary>
/// Reads Trivy JSON, Grype JSON and SARIF 2.1.0, telling them apart by shape so a configured scanner needs
/// no format setting: Trivy has <c>SchemaVersion</c> and <c>ArtifactName</c>, Grype has <c>matches</c>,
/// SARIF has <c>runs</c> and version 2.1.0.
/// </summary>
public static class ScanReportParser
{
    /// <param name="report">The report bytes (a scanner's stdout or a report file).</param>
    /// <param name="reportName">Names the report in errors, e.g. "trivy output" or a file path.</param>
    /// <param name="source">Overrides the source recorded on findings (defaults to the tool the report names).</param>
    public static ScanReport Parse(ReadOnlyMemory<byte> report, string reportName, string? source = null)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(report, new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException ex)
        {
            throw new PromotionException($"{reportName}: not valid JSON ({ex.Message}); expected a Trivy JSON, Grype JSON or SARIF 2.1.0 report");
        }
        using (document)
        {
            var root = document.RootElement;
            var format = Detect(root)
                ?? throw new PromotionException($"{reportName}: JSON is not a Trivy (SchemaVersion, Results), Grype (matches) or SARIF 2.1.0 (runs) report; run the scanner with JSON or SARIF output");
            try
            {
                return format switch
                {
                    ReportFormat.Trivy => new ScanReport(format, "trivy", ReadTrivy(root, source ?? "trivy")),
                    ReportFormat.Grype => new ScanReport(format, "grype", ReadGrype(root, source ?? "grype")),
                    _ => SarifReader.Read(root, source),
                };
            }
            catch (InvalidOperationException ex)
            {
                // JsonElement throws InvalidOperationException when a field has the wrong JSON type.
                throw new PromotionException($"{reportName}: {format} report has an unexpected shape ({ex.Message})");
            }
        }
    }

    /// <summary>The format the document's shape says (SARIF's <c>runs</c>, Trivy's <c>Results</c>/<c>ArtifactName</c>, Grype's <c>matches</c>); null for none of them.</summary>
    public static ReportFormat? Detect(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return null;
        if (root.TryGetProperty("runs", out var runs) && runs.ValueKind == JsonValueKind.Array
            && (Json.String(root, "version") == "2.1.0" || (Json.String(root, "$schema") ?? "").Contains("sarif", StringComparison.OrdinalIgnoreCase)))
            return ReportFormat.Sarif;
        if (root.TryGetProperty("matches", out var matches) && matches.ValueKind is JsonValueKind.Array or JsonValueKind.Null)
            return ReportFormat.Grype;
        // A clean Trivy report may leave out Results entirely; SchemaVersion and ArtifactName are always there.
        if (root.TryGetProperty("SchemaVersion", out _) && (root.TryGetProperty("ArtifactName", out _) || root.TryGetProperty("Results", out _)))
            return ReportFormat.Trivy;
        return null;
    }

    private static List<Finding> ReadTrivy(JsonElement root, string source)
    {
        var findings = new List<Finding>();
        foreach (var result in Json.Array(root, "Results"))
        {
            var target = Json.String(result, "Target");
            foreach (var v in Json.Array(result, "Vulnerabilities"))
            {
                var id = Json.String(v, "VulnerabilityID") ?? "unknown";
                var package = Json.String(v, "PkgName");
                var installed = Json.String(v, "InstalledVersion");
                findings.Add(new Finding
                {
                    Id = id,
                    Severity = SeverityText.TryParse(Json.String(v, "Severity")) ?? Severity.Unknown,
                    Source = source,
                    Title = Json.Title(Json.String(v, "Title"), $"{id} in {package} {installed}"),
                    Package = package,
                    InstalledVersion = installed,
                    FixedVersion = Json.NonEmpty(Json.String(v, "FixedVersion")),
                });
            }
            // Trivy scans for secrets too by default; its Match field is masked but still left out here.
            foreach (var s in Json.Array(result, "Secrets"))
            {
                var id = Json.String(s, "RuleID") ?? "secret";
                findings.Add(new Finding
                {
                    Id = id,
                    Severity = SeverityText.TryParse(Json.String(s, "Severity")) ?? Severity.Unknown,
                    Source = source,
                    Title = Json.Title(Json.String(s, "Title"), id),
                    Path = target,
                    Line = s.TryGetProperty("StartLine", out var line) && line.TryGetInt32(out var n) ? n : null,
                });
            }
            foreach (var m in Json.Array(result, "Misconfigurations"))
            {
                if (Json.String(m, "Status") is { } status && status != "FAIL") continue;
                var id = Json.String(m, "AVDID") ?? Json.String(m, "ID") ?? "misconfiguration";
                findings.Add(new Finding
                {
                    Id = id,
                    Severity = SeverityText.TryParse(Json.String(m, "Severity")) ?? Severity.Unknown,
                    Source = source,
                    Title = Json.Title(Json.String(m, "Title"), id),
                    Path = target,
                });
            }
        }
        return findings;
    }

    private static List<Finding> ReadGrype(JsonElement root, string source)
    {
        var findings = new List<Finding>();
        foreach (var match in Json.Array(root, "matches"))
        {
            if (match.ValueKind != JsonValueKind.Object || !match.TryGetProperty("vulnerability", out var vulnerability)) continue;
            match.TryGetProperty("artifact", out var artifact);
            var id = Json.String(vulnerability, "id") ?? "unknown";
            var package = Json.String(artifact, "name");
            var installed = Json.String(artifact, "version");
            string? fixedVersion = null;
            if (vulnerability.ValueKind == JsonValueKind.Object && vulnerability.TryGetProperty("fix", out var fix))
            {
                var versions = Json.Array(fix, "versions").Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()).ToArray();
                fixedVersion = versions.Length > 0 ? string.Join(", ", versions) : null;
            }
            findings.Add(new Finding
            {
                Id = id,
                Severity = SeverityText.TryParse(Json.String(vulnerability, "severity")) ?? Severity.Unknown,
                Source = source,
                Title = Json.Title(Json.String(vulnerability, "description"), $"{id} in {package} {installed}"),
                Package = package,
                InstalledVersion = installed,
                FixedVersion = fixedVersion,
            });
        }
        return findings;
    }
}

/// <summary>Small readers that treat a missing or mistyped field as absent, as report consumers must.</summary>
internal static class Json
{
    public static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray()
            : [];

    public static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    /// <summary>First line, at most 160 characters: descriptions run to paragraphs and summaries must stay one line.</summary>
    public static string Title(string? text, string fallback)
    {
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        var line = text.Trim().Split('\n')[0].Trim();
        return line.Length <= 160 ? line : line[..157] + "...";
    }
}
