using System.Globalization;

namespace ImagePromotion.Scanning;

/// <summary>
/// One severity scale for every source (built-in rules, Trivy, Grype, SARIF tools). The numeric order is
/// the order of concern, so "downgrade" and "worst of" are plain comparisons.
/// </summary>
public enum Severity
{
    /// <summary>Advice only (Grype's "Negligible", SARIF level "none"); counted but no threshold applies by default.</summary>
    Info = 0,
    /// <summary>The scanner did not say; kept apart from Low so a policy can refuse unknowns.</summary>
    Unknown = 1,
    /// <summary>Low risk (CVSS 0.1–3.9).</summary>
    Low = 2,
    /// <summary>Medium risk (CVSS 4.0–6.9; also "moderate").</summary>
    Medium = 3,
    /// <summary>High risk (CVSS 7.0–8.9).</summary>
    High = 4,
    /// <summary>Critical risk (CVSS 9.0–10.0).</summary>
    Critical = 5,
}

/// <summary>Severity names: parsing the words scanners use, and CVSS bands.</summary>
public static class SeverityText
{
    /// <summary>Worst first: the order of counts, findings and summaries.</summary>
    public static IReadOnlyList<Severity> WorstFirst { get; } =
        [Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.Unknown, Severity.Info];

    /// <summary>The lower-case name: <c>critical</c>, <c>high</c> … <c>info</c>.</summary>
    public static string Name(this Severity severity) => severity.ToString().ToLowerInvariant();

    /// <summary>Reads the words scanners use (Trivy CRITICAL, Grype Negligible, SARIF tags); null when it is none of them.</summary>
    public static Severity? TryParse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "critical" => Severity.Critical,
        "high" => Severity.High,
        "medium" or "moderate" => Severity.Medium,
        "low" => Severity.Low,
        "unknown" => Severity.Unknown,
        // Grype's "negligible" means the distribution does not consider it a risk.
        "info" or "informational" or "negligible" or "none" => Severity.Info,
        _ => null,
    };

    /// <summary>The CVSS v3 qualitative bands, as GitHub code scanning reads SARIF <c>security-severity</c>.</summary>
    public static Severity FromCvss(double score) => score switch
    {
        >= 9.0 => Severity.Critical,
        >= 7.0 => Severity.High,
        >= 4.0 => Severity.Medium,
        > 0.0 => Severity.Low,
        _ => Severity.Info,
    };

    /// <summary>Parses a CVSS score (invariant culture); false unless it is a number from 0 to 10.</summary>
    public static bool TryParseCvss(string? text, out double score) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out score) && score is >= 0 and <= 10;
}
