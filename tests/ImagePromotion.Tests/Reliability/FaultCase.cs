using System.Collections.Concurrent;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Reliability;

public enum FaultSide { Source, Destination }

public enum FaultOutcome { Completes, FailsClearly }

/// <summary>
/// One row of the fault matrix: where the proxy sits, which requests it hits (method + path regex,
/// built from the image so a fault can aim at one layer), what it does, how often, and what must follow.
/// </summary>
public sealed record FaultCase(
    string Name, FaultSide Side, string? Method, Func<PushedImage, string> Path, Func<PushedImage, FaultAction> Fault,
    int Times, FaultOutcome Expected, string? MessageMentions = null)
{
    /// <summary>Shorter header timeout for the stall rows, so the test costs seconds, not minutes.</summary>
    public TimeSpan? HeadersTimeout { get; init; }
    public override string ToString() => Name;
}

/// <summary>Rows observed during the run, printed as a table at the end (the matrix in SECURITY.md).</summary>
internal static class FaultMatrix
{
    private static readonly ConcurrentQueue<string> Rows = new();

    public static void Record(FaultCase c, string outcome) =>
        Rows.Enqueue($"| {c.Name} | {c.Side.ToString().ToLowerInvariant()} | {outcome} |");

    public static void Record(string fault, string side, string outcome) => Rows.Enqueue($"| {fault} | {side} | {outcome} |");

    public static string Table() =>
        "| fault | proxy in front of | outcome |\n|---|---|---|\n" + string.Join('\n', Rows.Order(StringComparer.Ordinal));
}

/// <summary>Prints the matrix once every Reliability fixture has run (and writes fault-matrix.md next to the tests).</summary>
[SetUpFixture]
public sealed class ReliabilityRun
{
    [OneTimeTearDown]
    public void PrintMatrix()
    {
        var table = FaultMatrix.Table();
        TestContext.Progress.WriteLine("fault matrix:\n" + table);
        File.WriteAllText(Path.Combine(TestContext.CurrentContext.WorkDirectory, "fault-matrix.md"), table + "\n");
    }
}
