using System.Text;

namespace ImagePromotion.Gates;

/// <summary>The verdict of one promotion gate. Reason is one line a release manager can act on.</summary>
public sealed record GateResult(string Gate, bool Passed, string Reason)
{
    public static GateResult Pass(string gate, string reason) => new(gate, true, reason);
    public static GateResult Fail(string gate, string reason) => new(gate, false, reason);

    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Gate}: {Reason}";
}

/// <summary>All gate verdicts for one promotion. The promotion may proceed only when every gate passed.</summary>
public sealed class GateReport
{
    public GateReport(IEnumerable<GateResult> results)
    {
        Results = results.ToArray();
    }

    public IReadOnlyList<GateResult> Results { get; }

    /// <summary>False for an empty report: no gate evaluated is not the same as every gate passed.</summary>
    public bool AllPassed => Results.Count > 0 && Results.All(r => r.Passed);

    public IReadOnlyList<GateResult> FailedGates => Results.Where(r => !r.Passed).ToArray();

    /// <summary>A fixed-width table for logs and PR comments: status, gate, reason.</summary>
    public string ToTable()
    {
        const string status = "STATUS", gate = "GATE", reason = "REASON";
        var gateWidth = Math.Max(gate.Length, Results.Select(r => r.Gate.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        sb.Append(status.PadRight(6)).Append("  ").Append(gate.PadRight(gateWidth)).Append("  ").Append(reason).Append('\n');
        sb.Append(new string('-', 6)).Append("  ").Append(new string('-', gateWidth)).Append("  ").Append(new string('-', reason.Length)).Append('\n');
        foreach (var r in Results)
        {
            sb.Append((r.Passed ? "PASS" : "FAIL").PadRight(6)).Append("  ").Append(r.Gate.PadRight(gateWidth)).Append("  ")
              .Append(r.Reason.Replace('\n', ' ').Replace('\r', ' ')).Append('\n');
        }
        sb.Append(Results.Count == 0 ? "no gates evaluated: promotion blocked"
            : AllPassed ? $"all {Results.Count} gates passed"
            : $"{FailedGates.Count} of {Results.Count} gates failed: {string.Join(", ", FailedGates.Select(g => g.Gate))}");
        return sb.ToString();
    }

    public override string ToString() => ToTable();
}
