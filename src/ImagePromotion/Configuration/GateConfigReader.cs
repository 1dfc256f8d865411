using System.Globalization;
using ImagePromotion.Gates;
using ImagePromotion.Scanning;

namespace ImagePromotion.Configuration;

/// <summary>Reads the <c>scan:</c> section and each environment's <c>gates:</c> section, strictly.</summary>
internal static class GateConfigReader
{
    public static ScanSettings? ReadScan(YamlReader? s)
    {
        if (s is null) return null;
        List<ScannerCommand>? scanners = null;
        if (s.Has("scanners"))
        {
            scanners = new List<ScannerCommand>();
            foreach (var (reader, scalar, line) in s.Items("scanners"))
            {
                if (scalar is not null)
                {
                    scanners.Add(ScannerCommand.FindKnown(scalar)
                        ?? throw new PromotionException($"{s.FileName}:{line}: '{s.PathOf("scanners")}' names '{scalar}': use trivy or grype, or give {{ name, executable, args }} with {ScannerCommand.ImagePlaceholder} in args"));
                    continue;
                }
                var r = reader!;
                var name = r.RequiredString("name");
                var known = ScannerCommand.FindKnown(name);
                var executable = r.String("executable") ?? known?.Executable ?? throw r.Missing("executable");
                var args = r.Has("args") ? r.StringList("args") : known?.Arguments ?? throw r.Missing("args");
                if (!args.Any(a => a.Contains(ScannerCommand.ImagePlaceholder, StringComparison.Ordinal)))
                    throw new PromotionException($"{s.FileName}:{line}: scanner '{name}' args never mention {ScannerCommand.ImagePlaceholder}: add it where the image reference goes");
                r.RejectUnknown();
                scanners.Add(known is null ? new ScannerCommand(name, executable, args) : known with { Executable = executable, Arguments = args });
            }
        }

        var thresholds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (severity, value) in s.StringMap("thresholds"))
        {
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var max))
                throw new PromotionException($"{s.FileName}: '{s.PathOf("thresholds")}.{severity}' is '{value}': give the most findings allowed as a whole number");
            thresholds[severity] = max;
        }
        var allowlist = new List<AllowlistEntry>();
        foreach (var (reader, scalar, line) in s.Items("allowlist"))
        {
            if (reader is null) throw new PromotionException($"{s.FileName}:{line}: '{s.PathOf("allowlist")}' entry '{scalar}' must be a mapping: {{ id: CVE-…, reason: …, expires: yyyy-MM-dd }}");
            allowlist.Add(AllowlistEntry.Parse(reader.String("id"), reader.String("reason"), reader.String("expires"), $"{s.FileName}:{line}: {s.PathOf("allowlist")}"));
            reader.RejectUnknown();
        }
        var settings = new ScanSettings
        {
            Scanners = scanners,
            Policy = thresholds.Count == 0 && !s.Has("thresholds")
                ? new ScanPolicy(ScanPolicy.Default.MaxCounts, allowlist, $"{s.FileName}: scan")
                : ScanPolicy.Create(thresholds, allowlist, $"{s.FileName}: scan.thresholds"),
            Rules = BuiltInRuleSettings.Parse(s.StringMap("rules"), $"{s.FileName}: scan.rules"),
            Timeout = Duration(s, "timeout") ?? TimeSpan.FromMinutes(10),
        };
        s.RejectUnknown();
        return settings;
    }

    /// <summary>
    /// An environment's <c>trust:</c> section: per kind of evidence (<see cref="TrustSettings.KindKeys"/>) a list of public
    /// keys, each a file path or <c>{ env: VARIABLE }</c>. Null when absent; an empty section or kind is an error, never
    /// "trust nothing" by accident nor "trust anything".
    /// </summary>
    public static TrustSettings? ReadTrust(YamlReader? t)
    {
        if (t is null) return null;
        var keys = new Dictionary<Evidence.Attestations.EvidenceKind, IReadOnlyList<TrustedKeySource>>();
        foreach (var (name, kind) in TrustSettings.KindKeys)
        {
            if (t.IsBlank(name))
                throw new PromotionException($"{t.FileName}:{t.Line}: '{t.PathOf(name)}' is empty: list the public keys trusted for {kind.Plural} (e.g. [keys/{Evidence.Signing.KeyPairs.FileName(kind.Role)}.pub]), or remove the key");
            var sources = new List<TrustedKeySource>();
            var i = 0;
            foreach (var (reader, scalar, line) in t.Items(name))
            {
                var origin = $"{t.PathOf(name)}[{i++}]";
                if (scalar is not null) { sources.Add(new TrustedKeySource(scalar, null, origin)); continue; }
                var file = reader!.String("file");
                var variable = reader.String("env");
                reader.RejectUnknown();
                if ((file is null) == (variable is null))
                    throw new PromotionException($"{t.FileName}:{line}: '{origin}' must name exactly one of file: PATH or env: VARIABLE");
                sources.Add(new TrustedKeySource(file, variable, origin));
            }
            if (t.Has(name)) keys[kind] = sources;
        }
        t.RejectUnknown();
        return new TrustSettings(keys, t.Here);
    }

    /// <summary>An environment's <c>gates:</c> section; null when absent.</summary>
    public static GateSettings? ReadGates(YamlReader? g, string environment) => g is null ? null : Read(g, environment, flatPolicy: false);

    /// <summary>
    /// A named policy under <c>policies:</c>: the keys of a gates section, with the policy's conditions at the top
    /// level as Devtron writes them (<c>passCondition</c>, <c>failCondition</c>, <c>allowDirectPromotion</c>).
    /// </summary>
    public static GateSettings ReadPolicy(YamlReader p, string name) => Read(p, name, flatPolicy: true);

    private static GateSettings Read(YamlReader g, string policyName, bool flatPolicy)
    {
        var file = g.FileName;
        var configured = new HashSet<string>(StringComparer.Ordinal);
        TimeSpan? scanMaxAge = null;
        if (g.Mapping("scan") is { } scan)
        {
            scanMaxAge = Duration(scan, "maxAge") ?? throw scan.Missing("maxAge");
            scan.RejectUnknown();
            configured.Add("scan");
        }
        StagingCheck? staging = null;
        if (g.Mapping("staging") is { } st)
        {
            staging = new StagingCheck(st.String("environment"), Duration(st, "window") ?? TimeSpan.Zero, Duration(st, "soak") ?? TimeSpan.Zero);
            st.RejectUnknown();
            configured.Add("staging");
        }
        var p = flatPolicy ? (g.Has("passCondition") || g.Has("failCondition") || g.Has("allowDirectPromotion") ? g : null) : g.Mapping("policy");
        var a = g.Mapping("approvals");
        if (p is not null) configured.Add("policy");
        if (a is not null) configured.Add("approvals");
        var policy = new PromotionPolicy
        {
            Name = flatPolicy ? policyName : p?.String("name", policyName) ?? policyName,
            PassCondition = p?.String("passCondition"),
            FailCondition = p?.String("failCondition"),
            AllowDirectPromotion = p?.Bool("allowDirectPromotion", false) ?? false,
            RequiredApprovals = a?.Int("required", 1) ?? 0,
            Approvers = a?.StringList("approvers") ?? [],
            AllowRequestFromApprove = a?.Bool("allowRequesterToApprove", false) ?? false,
            AllowImageBuilderFromApprove = a?.Bool("allowBuilderToApprove", false) ?? false,
            AllowApproverFromDeploy = a?.Bool("allowApproverToDeploy", false) ?? false,
        };
        if (!flatPolicy) p?.RejectUnknown();
        a?.RejectUnknown();
        try { policy.Validate(); }
        catch (PromotionException ex) { throw new PromotionException($"{file}:{g.Line}: '{g.Here}': {ex.Message}"); }

        var environmentLock = new EnvironmentLock(false);
        if (g.Mapping("lock") is { } l)
        {
            environmentLock = new EnvironmentLock(l.Bool("locked", false), l.String("reason"));
            l.RejectUnknown();
            configured.Add("lock");
        }
        var windows = new List<FreezeWindow>();
        foreach (var (reader, scalar, line) in g.Items("freeze"))
        {
            if (reader is null) throw new PromotionException($"{file}:{line}: '{g.PathOf("freeze")}' entry '{scalar}' must be a mapping with name, timeZone and days/start/end or from/until");
            windows.Add(ReadWindow(reader, line));
            reader.RejectUnknown();
        }
        if (g.Has("freeze")) configured.Add("freeze");
        try { _ = new FreezeCalendar(windows); }
        catch (PromotionException ex) { throw new PromotionException($"{file}: '{g.PathOf("freeze")}': {ex.Message}"); }

        var rollback = g.Has("rollback") ? g.StringList("rollback") : null;
        foreach (var name in rollback ?? [])
            if (!GateSettings.Names.Contains(name))
                throw new PromotionException($"{file}:{g.Line}: '{g.PathOf("rollback")}' names gate '{name}': use any of {string.Join(", ", GateSettings.Names)}");
        if (rollback is not null) configured.Add("rollback");
        g.RejectUnknown();
        var settings = new GateSettings
        {
            ScanMaxAge = scanMaxAge, Staging = staging, Policy = policy, Lock = environmentLock, FreezeWindows = windows,
            Configured = configured, Origin = g.Here,
        };
        return rollback is null ? settings : settings with { RollbackGates = rollback };
    }

    private static FreezeWindow ReadWindow(YamlReader w, int line)
    {
        var name = w.RequiredString("name");
        var zone = w.String("timeZone", "UTC")!;
        if (w.Has("from") || w.Has("until"))
        {
            return new DateRangeFreezeWindow(name, zone, LocalTime(w, "from", line), LocalTime(w, "until", line));
        }
        var days = w.StringList("days").Select(d => Day(d, w, line)).ToArray();
        if (days.Length == 0) throw w.Missing("days");
        return new WeeklyFreezeWindow(name, zone, days, Clock(w, "start", line), Clock(w, "end", line));
    }

    private static DateTime LocalTime(YamlReader w, string key, int line)
    {
        var text = w.String(key) ?? throw w.Missing(key);
        string[] formats = ["yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm", "yyyy-MM-dd"];
        return DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t
            : throw new PromotionException($"{w.FileName}:{line}: '{w.PathOf(key)}' is '{text}': write a local time as yyyy-MM-dd HH:mm");
    }

    private static TimeOnly Clock(YamlReader w, string key, int line)
    {
        var text = w.String(key) ?? throw w.Missing(key);
        return TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t
            : throw new PromotionException($"{w.FileName}:{line}: '{w.PathOf(key)}' is '{text}': write a time of day as HH:mm");
    }

    private static DayOfWeek Day(string text, YamlReader w, int line)
    {
        foreach (var d in Enum.GetValues<DayOfWeek>())
            if (d.ToString().StartsWith(text, StringComparison.OrdinalIgnoreCase) && text.Length >= 3) return d;
        throw new PromotionException($"{w.FileName}:{line}: '{w.PathOf("days")}' has '{text}': use day names such as Mon, Tuesday, Sat");
    }

    private static TimeSpan? Duration(YamlReader r, string key)
    {
        var text = r.String(key);
        if (text is null) return null;
        return Durations.TryParse(text, out var d) ? d
            : throw new PromotionException($"{r.FileName}:{r.Line}: '{r.PathOf(key)}' is '{text}': write a duration such as 90s, 30m, 24h or 7d");
    }
}
