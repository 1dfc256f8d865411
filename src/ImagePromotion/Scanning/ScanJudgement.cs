using System.Text.Json;

namespace ImagePromotion.Scanning;

/// <summary>
/// The policy a scan was judged under, recorded in the signed scan result: every built-in rule's severity (or
/// <c>off</c>), the thresholds, the allowlist and the scanners the configuration required. A result without it cannot
/// say what "passed" meant, so a gate re-judges the findings under its own reviewed policy (<see cref="Rejudge"/>).
/// </summary>
/// <param name="Rules">Built-in rule id → severity name or <c>off</c>, every rule listed.</param>
/// <param name="Thresholds">Severity name → most counted findings allowed (absent: no limit).</param>
/// <param name="Allowlist">The allowlisted ids with their expiry (<c>CVE-… until 2026-12-31</c>).</param>
/// <param name="Scanners">The scanners the configuration required; null: every installed one.</param>
public sealed record ScanJudgement(IReadOnlyDictionary<string, string> Rules, IReadOnlyDictionary<string, int> Thresholds,
    IReadOnlyList<string> Allowlist, IReadOnlyList<string>? Scanners)
{
    /// <summary>The judgement a configuration gives: rules, thresholds, allowlist and required scanners.</summary>
    public static ScanJudgement Of(ScanPolicy policy, BuiltInRuleSettings rules, IReadOnlyList<ScannerCommand>? scanners) => new(
        BuiltInRules.All.ToDictionary(r => r.Id, r => rules.IsEnabled(r) ? rules.SeverityOf(r).Name() : BuiltInRuleSettings.Off, StringComparer.Ordinal),
        SeverityText.WorstFirst.Where(policy.MaxCounts.ContainsKey).ToDictionary(s => s.Name(), s => policy.MaxCounts[s], StringComparer.Ordinal),
        policy.Allowlist.OrderBy(e => e.Id, StringComparer.Ordinal).Select(e => $"{e.Id} until {e.Expires:yyyy-MM-dd}").ToArray(),
        scanners?.Select(s => s.Name).Order(StringComparer.Ordinal).ToArray());

    /// <summary>A stable text of the whole judgement: two scans under the same policy have the same one.</summary>
    public string Fingerprint => JsonSerializer.Serialize(new
    {
        rules = Rules.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}"),
        thresholds = Thresholds.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"),
        allowlist = Allowlist, scanners = Scanners,
    });

    /// <summary>
    /// The scan's findings judged again under a reviewed policy, as a gate must: a rule the scan had switched off (or
    /// counted at a lower severity) that the policy needs cannot be recovered from its findings, so that fails; built-in
    /// findings take the policy's severities; the policy's thresholds and allowlist count them; every required scanner
    /// must have run and succeeded. The result says so in <see cref="ScanResult.Reasons"/>; its
    /// <see cref="ScanResult.Passed"/> is the policy's verdict, not the scanner job's.
    /// </summary>
    /// <param name="scan">The trusted result as the scanning job wrote it.</param>
    /// <param name="policy">The reviewed thresholds and allowlist.</param>
    /// <param name="rules">The reviewed built-in rule settings.</param>
    /// <param name="scanners">The scanners the reviewed configuration requires; null: none in particular.</param>
    /// <param name="now">When it is judged (allowlist expiry).</param>
    /// <param name="by">Whose policy, for messages (<c>the production policy (promotion.yaml: scan)</c>).</param>
    public static ScanResult Rejudge(ScanResult scan, ScanPolicy policy, BuiltInRuleSettings rules, IReadOnlyList<ScannerCommand>? scanners,
        DateTimeOffset now, string by)
    {
        var violations = new List<string>();
        if (scan.Judgement is not { } recorded)
            return scan with
            {
                Passed = false,
                Incomplete = true,
                Reasons = [$"the scan result does not record the rules and thresholds that judged it (an earlier version wrote it): re-scan so {by} can re-judge it"],
            };
        foreach (var rule in BuiltInRules.All.Where(rules.IsEnabled))
        {
            var wanted = rules.SeverityOf(rule);
            var was = recorded.Rules.GetValueOrDefault(rule.Id);
            if (was is null || was == BuiltInRuleSettings.Off)
                violations.Add($"rule {rule.Id} was off when the image was scanned, {by} counts it as {wanted.Name()}: re-scan under the reviewed configuration");
            else if (SeverityText.TryParse(was) is { } severity && severity < wanted)
                violations.Add($"rule {rule.Id} was judged {was} when the image was scanned, {by} counts it as {wanted.Name()}: re-scan under the reviewed configuration");
        }
        var incomplete = violations.Count > 0;
        // Built-in findings carry the scanning job's severity for their rule: the policy's own counts instead.
        var findings = new List<Finding>();
        foreach (var f in scan.Findings)
        {
            var rule = f.Source == "builtin" ? BuiltInRules.Find(f.Id) : null;
            if (rule is not null && !rules.IsEnabled(rule)) continue;
            findings.Add(f with { Severity = rule is null ? f.Severity : rules.SeverityOf(rule), Allowlisted = false });
        }
        var evaluation = policy.Evaluate(findings, now);
        violations.AddRange(evaluation.Violations);
        violations.AddRange(scan.ScannersRun.Where(r => !r.Succeeded).Select(r => $"scanner {r.Name} failed: {r.FailureReason}"));
        foreach (var required in scanners ?? [])
            if (!scan.ScannersRun.Any(r => r.Name == required.Name && r.Succeeded))
                violations.Add($"{by} requires scanner {required.Name}, which did not run in this scan");
        if (scan.ScannersRun.Count == 0) violations.Add("nothing was scanned");
        return scan with
        {
            Passed = violations.Count == 0,
            Incomplete = incomplete,
            Reasons = violations.Concat(evaluation.Notes).ToArray(),
            Counts = evaluation.Counts,
            Allowlisted = evaluation.AllowlistedCount,
            Findings = evaluation.Findings,
        };
    }
}
