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
    Low = 2,
    Medium = 3,
    High = 4,
    Critical = 5,
}

public static class SeverityText
{
    /// <summary>Worst first: the order of counts, findings and summaries.</summary>
    public static IReadOnlyList<Severity> WorstFirst { get; } =
        [Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.Unknown, Severity.Info];

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

    public static bool TryParseCvss(string? text, out double score) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out score) && score is >= 0 and <= 10;
}
