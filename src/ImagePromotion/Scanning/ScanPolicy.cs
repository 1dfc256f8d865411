using System.Globalization;

namespace ImagePromotion.Scanning;

/// <summary>
/// A known finding accepted for a while. It expires at 00:00 UTC on <see cref="Expires"/> (as Trivy's
/// <c>exp:</c> does), so every exception is revisited instead of becoming permanent.
/// </summary>
public sealed record AllowlistEntry(string Id, string Reason, DateOnly Expires)
{
    /// <summary>True before 00:00 UTC on <see cref="Expires"/>.</summary>
    public bool IsActive(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime) < Expires;

    /// <summary>Builds an entry from configuration text, e.g. <c>expires: 2026-06-30</c>.</summary>
    public static AllowlistEntry Parse(string? id, string? reason, string? expires, string source = "scan allowlist")
    {
        if (string.IsNullOrWhiteSpace(id))
            throw new PromotionException($"{source}: an entry has no id; give the vulnerability or rule id, e.g. id: CVE-2024-1234");
        if (string.IsNullOrWhiteSpace(reason))
            throw new PromotionException($"{source}: entry {id} has no reason; say why it is accepted (reason: ...)");
        if (!DateOnly.TryParseExact(expires?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            throw new PromotionException($"{source}: entry {id} has expires '{expires}'; give a date as yyyy-MM-dd (every allowlist entry must expire)");
        return new AllowlistEntry(id.Trim(), reason.Trim(), date);
    }
}

/// <summary>What the policy made of a set of findings.</summary>
/// <param name="Findings">All findings, allowlisted ones marked, worst first.</param>
/// <param name="Violations">Thresholds exceeded; any violation fails the scan.</param>
/// <param name="Notes">Expired allowlist entries and other things a reader must see but that do not fail on their own.</param>
/// <param name="Counts">Counted findings per severity (allowlisted ones excluded).</param>
/// <param name="AllowlistedCount">Findings an active allowlist entry covered.</param>
public sealed record PolicyEvaluation(IReadOnlyList<Finding> Findings, SeverityCounts Counts, int AllowlistedCount, IReadOnlyList<string> Violations, IReadOnlyList<string> Notes);

/// <summary>Maximum counted findings per severity, and the allowlist that decides what is not counted.</summary>
public sealed class ScanPolicy
{
    /// <summary>Blocks critical findings and nothing else: the least a promotion gate should refuse.</summary>
    public static ScanPolicy Default { get; } = new(new Dictionary<Severity, int> { [Severity.Critical] = 0 }, []);

    /// <summary>Severity → most counted findings allowed; a severity that is absent has no limit.</summary>
    public IReadOnlyDictionary<Severity, int> MaxCounts { get; }
    /// <summary>Accepted findings by id, each with a reason and an expiry date.</summary>
    public IReadOnlyList<AllowlistEntry> Allowlist { get; }

    /// <summary>A policy of thresholds and an allowlist.</summary>
    /// <param name="maxCounts">Severity to most counted findings allowed (0 or more).</param>
    /// <param name="allowlist">Accepted findings, at most one entry per id.</param>
    /// <param name="source">Where the policy came from, named in errors.</param>
    /// <exception cref="PromotionException">A negative threshold, or an id listed twice.</exception>
    public ScanPolicy(IReadOnlyDictionary<Severity, int> maxCounts, IReadOnlyList<AllowlistEntry> allowlist, string source = "scan policy")
    {
        foreach (var (severity, max) in maxCounts)
            if (max < 0) throw new PromotionException($"{source}: threshold for {severity.Name()} is {max}; use 0 or more (leave it out for no limit)");
        var duplicate = allowlist.GroupBy(e => e.Id, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new PromotionException($"{source}: allowlist has {duplicate.Key} more than once; keep one entry per id so its expiry is unambiguous");
        MaxCounts = new Dictionary<Severity, int>(maxCounts);
        Allowlist = allowlist.ToArray();
    }

    /// <summary>Reads thresholds keyed by severity name (critical, high, medium, low, unknown, info), as a config file spells them.</summary>
    public static ScanPolicy Create(IReadOnlyDictionary<string, int>? maxCounts, IEnumerable<AllowlistEntry>? allowlist, string source = "scan policy")
    {
        var counts = new Dictionary<Severity, int>();
        foreach (var (name, max) in maxCounts ?? new Dictionary<string, int>())
        {
            var severity = SeverityText.TryParse(name)
                ?? throw new PromotionException($"{source}: unknown severity '{name}' in thresholds; use critical, high, medium, low, unknown or info");
            counts[severity] = max;
        }
        return new ScanPolicy(counts, (allowlist ?? []).ToArray(), source);
    }

    /// <summary>Marks allowlisted findings (expired entries are noted, not applied), counts the rest by severity and lists every threshold exceeded.</summary>
    /// <param name="findings">Every finding of the scan.</param>
    /// <param name="now">The instant allowlist expiry is judged at.</param>
    public PolicyEvaluation Evaluate(IEnumerable<Finding> findings, DateTimeOffset now)
    {
        var entries = Allowlist.ToDictionary(e => e.Id, StringComparer.OrdinalIgnoreCase);
        var expiredHits = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var marked = new List<Finding>();
        foreach (var finding in findings)
        {
            var allowed = false;
            if (entries.TryGetValue(finding.Id, out var entry))
            {
                if (entry.IsActive(now)) allowed = true;
                else expiredHits[entry.Id] = expiredHits.GetValueOrDefault(entry.Id) + 1;
            }
            marked.Add(finding with { Allowlisted = allowed });
        }
        marked.Sort(Finding.ReportOrder);

        var counted = marked.Where(f => !f.Allowlisted).ToArray();
        var counts = SeverityCounts.Of(counted);
        var violations = new List<string>();
        foreach (var severity in SeverityText.WorstFirst)
        {
            if (MaxCounts.TryGetValue(severity, out var max) && counts[severity] > max)
                violations.Add($"{severity.Name()}: {counts[severity]} findings, at most {max} allowed");
        }

        var notes = new List<string>();
        foreach (var entry in Allowlist.Where(e => !e.IsActive(now)).OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            notes.Add(expiredHits.TryGetValue(entry.Id, out var hits)
                ? $"allowlist entry {entry.Id} expired on {entry.Expires:yyyy-MM-dd}: counted ({hits} finding{(hits == 1 ? "" : "s")})"
                : $"allowlist entry {entry.Id} expired on {entry.Expires:yyyy-MM-dd} and matches nothing: remove it");
        }
        return new PolicyEvaluation(marked, counts, marked.Count - counted.Length, violations, notes);
    }
}
