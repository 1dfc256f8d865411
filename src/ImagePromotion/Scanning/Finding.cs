namespace ImagePromotion.Scanning;

/// <summary>
/// One thing a scanner found in an image: a vulnerable package (Trivy, Grype, SARIF) or a built-in rule hit
/// (a secret in a layer file, a config hygiene problem). Secret findings carry only a masked hint, never the value.
/// </summary>
public sealed record Finding
{
    /// <summary>Vulnerability id (CVE-…, GHSA-…) or built-in rule id (private-key, root-user, …).</summary>
    public required string Id { get; init; }
    /// <summary>How serious it is, on the one scale (<see cref="Scanning.Severity"/>).</summary>
    public required Severity Severity { get; init; }
    /// <summary>Who reported it: <c>builtin</c>, <c>trivy</c>, <c>grype</c>, or a SARIF tool name; <c>grype+trivy</c> when both did.</summary>
    public required string Source { get; init; }
    /// <summary>One line for a human; for secrets it holds the masked hint only.</summary>
    public required string Title { get; init; }
    /// <summary>The vulnerable package's name, for vulnerability findings.</summary>
    public string? Package { get; init; }
    /// <summary>The installed version of <see cref="Package"/>.</summary>
    public string? InstalledVersion { get; init; }
    /// <summary>The first version that fixes it; null when no fix is known.</summary>
    public string? FixedVersion { get; init; }
    /// <summary>Layer digest a secret was found in.</summary>
    public string? Layer { get; init; }
    /// <summary>File path in the image filesystem (secrets) or the location a SARIF result names.</summary>
    public string? Path { get; init; }
    /// <summary>1-based line in <see cref="Path"/>, when the source gives one.</summary>
    public int? Line { get; init; }
    /// <summary>Set by the policy when an unexpired allowlist entry covers this id; allowlisted findings do not count.</summary>
    public bool Allowlisted { get; init; }

    /// <summary>Identity across scanners: the same CVE in the same package version, or the same rule at the same place.</summary>
    internal string Key => string.Join('\u001f', Id, Package, InstalledVersion, Layer, Path, Line);

    internal static IComparer<Finding> ReportOrder { get; } = Comparer<Finding>.Create((a, b) =>
    {
        var c = b.Severity.CompareTo(a.Severity);
        if (c == 0) c = string.CompareOrdinal(a.Id, b.Id);
        if (c == 0) c = string.CompareOrdinal(a.Package, b.Package);
        if (c == 0) c = string.CompareOrdinal(a.InstalledVersion, b.InstalledVersion);
        if (c == 0) c = string.CompareOrdinal(a.Layer, b.Layer);
        if (c == 0) c = string.CompareOrdinal(a.Path, b.Path);
        if (c == 0) c = Nullable.Compare(a.Line, b.Line);
        if (c == 0) c = string.CompareOrdinal(a.Source, b.Source);
        return c;
    });

    /// <summary>
    /// Two scanners reporting the same CVE in the same package is one problem, not two: merge them, keep the
    /// worst severity and name both sources, so running Trivy and Grype together does not double the counts.
    /// </summary>
    internal static IReadOnlyList<Finding> Merge(IEnumerable<Finding> findings)
    {
        var byKey = new Dictionary<string, Finding>(StringComparer.Ordinal);
        foreach (var f in findings)
        {
            if (!byKey.TryGetValue(f.Key, out var seen)) { byKey[f.Key] = f; continue; }
            var sources = seen.Source.Split('+').Append(f.Source).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            var worst = f.Severity > seen.Severity ? f : seen;
            byKey[f.Key] = worst with
            {
                Source = string.Join('+', sources),
                FixedVersion = seen.FixedVersion ?? f.FixedVersion,
            };
        }
        return byKey.Values.Order(ReportOrder).ToArray();
    }
}

/// <summary>How many counted (not allowlisted) findings there are of each severity.</summary>
public sealed record SeverityCounts
{
    /// <summary>Counted critical findings.</summary>
    public int Critical { get; init; }
    /// <summary>Counted high findings.</summary>
    public int High { get; init; }
    /// <summary>Counted medium findings.</summary>
    public int Medium { get; init; }
    /// <summary>Counted low findings.</summary>
    public int Low { get; init; }
    /// <summary>Counted findings of unknown severity.</summary>
    public int Unknown { get; init; }
    /// <summary>Counted informational findings.</summary>
    public int Info { get; init; }

    /// <summary>The count for <paramref name="severity"/>.</summary>
    public int this[Severity severity] => severity switch
    {
        Severity.Critical => Critical,
        Severity.High => High,
        Severity.Medium => Medium,
        Severity.Low => Low,
        Severity.Unknown => Unknown,
        _ => Info,
    };

    /// <summary>All counted findings.</summary>
    public int Total => Critical + High + Medium + Low + Unknown + Info;

    /// <summary>Counts <paramref name="counted"/> by severity; the caller passes only what counts (allowlisted ones left out).</summary>
    public static SeverityCounts Of(IEnumerable<Finding> counted)
    {
        var list = counted as IReadOnlyCollection<Finding> ?? counted.ToArray();
        int N(Severity s) => list.Count(f => f.Severity == s);
        return new SeverityCounts
        {
            Critical = N(Severity.Critical), High = N(Severity.High), Medium = N(Severity.Medium),
            Low = N(Severity.Low), Unknown = N(Severity.Unknown), Info = N(Severity.Info),
        };
    }
}
