using System.Text;

namespace ImagePromotion.Gates;

/// <summary>The verdict of one promotion gate. Reason is one line a release manager can act on.</summary>
/// <param name="Gate">The gate's name (<see cref="IGate.Name"/>).</param>
/// <param name="Passed">True when the gate lets the release through.</param>
/// <param name="Reason">Why, in one line.</param>
public sealed record GateResult(string Gate, bool Passed, string Reason)
{
    /// <summary>Not decided yet: the fact it needs is produced by the run itself (the pull request whose reviews it counts). Never a pass.</summary>
    public bool Pending { get; init; }

    /// <summary>The image an image-scoped verdict is about, when the release has more than one; null otherwise.</summary>
    public string? Image { get; init; }

    /// <summary>A passing verdict.</summary>
    public static GateResult Pass(string gate, string reason) => new(gate, true, reason);

    /// <summary>A failing verdict.</summary>
    public static GateResult Fail(string gate, string reason) => new(gate, false, reason);

    /// <summary>A pending verdict (<see cref="Pending"/>).</summary>
    public static GateResult Wait(string gate, string reason) => new(gate, false, reason) { Pending = true };

    /// <summary>
    /// This verdict with the evidence it was shown but did not count appended to the reason (<c>; ignored: …</c>), so
    /// the gate table names every unsigned, untrusted or replayed piece next to the verdict it could not sway.
    /// </summary>
    public GateResult WithIgnored(IEnumerable<string> ignored)
    {
        var list = ignored.Distinct(StringComparer.Ordinal).ToArray();
        return list.Length == 0 ? this : this with { Reason = $"{Reason}; ignored {list.Length}: {string.Join("; ", list)}" };
    }

    /// <summary>PASS, FAIL or WAIT.</summary>
    public string Status => Passed ? "PASS" : Pending ? "WAIT" : "FAIL";

    /// <summary>The gate's name with the image it judged, e.g. <c>scan (worker)</c>.</summary>
    public string Label => Image is null ? Gate : $"{Gate} ({Image})";

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Label}: {Reason}";
}

/// <summary>All gate verdicts for one promotion. The promotion may proceed only when every gate passed.</summary>
public sealed class GateReport
{
    /// <summary>A report of <paramref name="results"/>, in the order given.</summary>
    public GateReport(IEnumerable<GateResult> results)
    {
        Results = results.ToArray();
    }

    /// <summary>Every verdict.</summary>
    public IReadOnlyList<GateResult> Results { get; }

    /// <summary>False for an empty report: no gate evaluated is not the same as every gate passed.</summary>
    public bool AllPassed => Results.Count > 0 && Results.All(r => r.Passed);

    /// <summary>The verdicts that did not pass, pending ones included.</summary>
    public IReadOnlyList<GateResult> FailedGates => Results.Where(r => !r.Passed).ToArray();

    /// <summary>True when a gate failed outright (not merely pending).</summary>
    public bool Refuses => Results.Any(r => !r.Passed && !r.Pending);

    /// <summary>A fixed-width table for logs and PR comments: status, gate, reason.</summary>
    public string ToTable()
    {
        const string status = "STATUS", gate = "GATE", reason = "REASON";
        var gateWidth = Math.Max(gate.Length, Results.Select(r => r.Label.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        sb.Append(status.PadRight(6)).Append("  ").Append(gate.PadRight(gateWidth)).Append("  ").Append(reason).Append('\n');
        sb.Append(new string('-', 6)).Append("  ").Append(new string('-', gateWidth)).Append("  ").Append(new string('-', reason.Length)).Append('\n');
        foreach (var r in Results)
        {
            sb.Append(r.Status.PadRight(6)).Append("  ").Append(r.Label.PadRight(gateWidth)).Append("  ")
              .Append(r.Reason.Replace('\n', ' ').Replace('\r', ' ')).Append('\n');
        }
        var pending = Results.Count(r => r.Pending);
        sb.Append(Results.Count == 0 ? "no gates evaluated: promotion blocked"
            : AllPassed ? $"all {Results.Count} gates passed"
            : !Refuses ? $"{Results.Count - pending} of {Results.Count} gates passed; waiting for: {string.Join(", ", Results.Where(r => r.Pending).Select(g => g.Label))}"
            : $"{FailedGates.Count} of {Results.Count} gates failed: {string.Join(", ", FailedGates.Select(g => g.Label))}");
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => ToTable();
}
