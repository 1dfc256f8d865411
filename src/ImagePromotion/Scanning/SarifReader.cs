using System.Text.Json;

namespace ImagePromotion.Scanning;

/// <summary>
/// SARIF 2.1.0 results as findings. Severity comes, in order, from <c>security-severity</c> (a CVSS score,
/// the property GitHub code scanning reads), a <c>severity</c> property, a severity word among the tags
/// (Trivy and Grype tag rules with it), and last the result level.
/// </summary>
internal static class SarifReader
{
    public static ScanReport Read(JsonElement root, string? source)
    {
        var findings = new List<Finding>();
        var tools = new List<string>();
        foreach (var run in Json.Array(root, "runs"))
        {
            run.TryGetProperty("tool", out var tool);
            var driver = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("driver", out var d) ? d : default;
            var toolName = (Json.String(driver, "name") ?? "sarif").ToLowerInvariant();
            tools.Add(toolName);
            var rules = Json.Array(driver, "rules").ToArray();
            var rulesById = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var rule in rules)
                if (Json.String(rule, "id") is { } id) rulesById.TryAdd(id, rule);

            foreach (var result in Json.Array(run, "results"))
            {
                // Only failures are findings; "pass" and "notApplicable" results record checks that found nothing.
                if (Json.String(result, "kind") is { } kind && kind != "fail") continue;
                var rule = RuleOf(result, rules, rulesById);
                var id = Json.String(result, "ruleId") ?? Json.String(rule, "id") ?? "unknown";
                var (path, line) = LocationOf(result);
                findings.Add(new Finding
                {
                    Id = id,
                    Severity = SeverityOf(result, rule),
                    Source = source ?? toolName,
                    Title = Json.Title(MessageOf(result) ?? ShortDescriptionOf(rule), id),
                    Path = path,
                    Line = line,
                });
            }
        }
        return new ScanReport(ReportFormat.Sarif, tools.Count == 0 ? "sarif" : string.Join('+', tools.Distinct()), findings);
    }

    private static JsonElement RuleOf(JsonElement result, JsonElement[] rules, Dictionary<string, JsonElement> byId)
    {
        if (result.TryGetProperty("ruleIndex", out var index) && index.TryGetInt32(out var i) && i >= 0 && i < rules.Length)
            return rules[i];
        return Json.String(result, "ruleId") is { } id && byId.TryGetValue(id, out var rule) ? rule : default;
    }

    internal static Severity SeverityOf(JsonElement result, JsonElement rule)
    {
        foreach (var holder in new[] { result, rule })
        {
            if (!TryProperties(holder, out var properties)) continue;
            if (properties.TryGetProperty("security-severity", out var score))
            {
                var text = score.ValueKind == JsonValueKind.Number ? score.GetRawText() : score.ValueKind == JsonValueKind.String ? score.GetString() : null;
                if (SeverityText.TryParseCvss(text, out var cvss)) return SeverityText.FromCvss(cvss);
            }
            if (SeverityText.TryParse(Json.String(properties, "severity")) is { } named) return named;
            foreach (var tag in Json.Array(properties, "tags"))
                if (tag.ValueKind == JsonValueKind.String && SeverityText.TryParse(tag.GetString()) is { } tagged && tagged != Severity.Info)
                    return tagged;
        }
        // SARIF's default level is "warning" when neither the result nor the rule's defaultConfiguration says.
        var level = Json.String(result, "level")
            ?? (rule.ValueKind == JsonValueKind.Object && rule.TryGetProperty("defaultConfiguration", out var dc) ? Json.String(dc, "level") : null)
            ?? "warning";
        return level switch
        {
            "error" => Severity.High,
            "warning" => Severity.Medium,
            "note" => Severity.Low,
            _ => Severity.Info,
        };
    }

    private static bool TryProperties(JsonElement holder, out JsonElement properties)
    {
        properties = default;
        return holder.ValueKind == JsonValueKind.Object && holder.TryGetProperty("properties", out properties) && properties.ValueKind == JsonValueKind.Object;
    }

    private static string? MessageOf(JsonElement result) =>
        result.TryGetProperty("message", out var m) ? Json.String(m, "text") : null;

    private static string? ShortDescriptionOf(JsonElement rule) =>
        rule.ValueKind == JsonValueKind.Object && rule.TryGetProperty("shortDescription", out var s) ? Json.String(s, "text") : null;

    private static (string? Path, int? Line) LocationOf(JsonElement result)
    {
        var location = Json.Array(result, "locations").FirstOrDefault();
        if (location.ValueKind != JsonValueKind.Object || !location.TryGetProperty("physicalLocation", out var physical)) return (null, null);
        var uri = physical.TryGetProperty("artifactLocation", out var artifact) ? Json.String(artifact, "uri") : null;
        int? line = physical.TryGetProperty("region", out var region) && region.ValueKind == JsonValueKind.Object
            && region.TryGetProperty("startLine", out var l) && l.TryGetInt32(out var n) ? n : null;
        return (uri, line);
    }
}
