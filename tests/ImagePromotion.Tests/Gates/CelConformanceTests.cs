using System.Text.Json;
using ImagePromotion.Gates.Cel;

namespace ImagePromotion.Tests.Gates;

/// <summary>
/// Runs the CEL corpus one NUnit case per line: Corpus/cel/cel-spec.txt (cel-spec's own conformance cases for
/// the features the interpreter has, named file/section/test) and Corpus/cel/conformance.txt (our own cases).
/// </summary>
[TestFixture]
public sealed class CelConformanceTests
{
    private const string Separator = " :: ";

    public sealed record Case(string Name, string Expression, string Expected, string? Bindings)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<TestCaseData> Cases() =>
        Read("cel-spec.txt", "cel-spec/").Concat(Read("conformance.txt", "cel/")).Select(c => new TestCaseData(c).SetName(c.Name));

    private static IEnumerable<Case> Read(string file, string prefix)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Corpus", "cel", file);
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(Separator);
            if (parts.Length is < 3 or > 4) throw new InvalidDataException($"{file}: malformed line '{line}'");
            yield return new Case(prefix + parts[0].Trim(), Expression(parts[1], file), parts[2].Trim(), parts.Length == 4 ? parts[3] : null);
        }
    }

    // json"..." holds an expression with control characters or edge spaces as a JSON string literal.
    private static string Expression(string field, string file) =>
        field.StartsWith("json\"", StringComparison.Ordinal)
            ? JsonSerializer.Deserialize<string>(field.AsSpan(4)) ?? throw new InvalidDataException($"{file}: null expression '{field}'")
            : field;

    [Test]
    public void Corpus_has_the_imported_cel_spec_cases_and_our_own()
    {
        var names = Cases().Select(c => ((Case)c.Arguments[0]!).Name).ToList();
        Assert.That(names.Count(n => n.StartsWith("cel-spec/", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(1000));
        Assert.That(names.Count(n => n.StartsWith("cel/", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(80));
        Assert.That(names, Is.Unique);
    }

    [TestCaseSource(nameof(Cases))]
    public void Conformance(Case c)
    {
        var variables = c.Bindings is null ? null : Bindings(c.Bindings);
        object? actual;
        try
        {
            actual = CelExpression.Compile(c.Expression).Evaluate(variables);
        }
        catch (PromotionException e)
        {
            actual = new CelError(e.Message); // a syntax error is an expected "error" outcome too
        }

        if (c.Expected.StartsWith("error", StringComparison.Ordinal))
        {
            var fragment = c.Expected.Length > 6 ? c.Expected[6..].Trim() : "";
            Assert.That(actual, Is.InstanceOf<CelError>(), $"{c.Expression} should fail but gave {CelTypes.Format(actual)}");
            Assert.That(((CelError)actual!).Message, Does.Contain(fragment).IgnoreCase);
            return;
        }

        var expected = CelExpression.Compile(c.Expected).Evaluate();
        Assert.That(expected, Is.Not.InstanceOf<CelError>(), "the expected literal itself failed");
        Assert.That(StrictEqual(actual, expected), Is.True,
            $"{c.Expression}: expected {CelTypes.Format(expected)} ({CelTypes.NameOf(expected)}) but got {CelTypes.Format(actual)} ({CelTypes.NameOf(actual)})");
    }

    private static Dictionary<string, object?> Bindings(string mapLiteral)
    {
        var map = CelExpression.Compile(mapLiteral).Evaluate() as CelMap
            ?? throw new InvalidDataException($"bindings '{mapLiteral}' are not a map literal");
        return map.ToDictionary(e => (string)e.Key, e => e.Value);
    }

    /// <summary>
    /// Type-exact equality: unlike CEL's own ==, 1 is not 1u and not 1.0, so a result of the wrong type fails.
    /// </summary>
    internal static bool StrictEqual(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (double x, double y) => x.Equals(y),
        (CelMap x, CelMap y) => x.Count == y.Count && x.All(e => y.TryGet(e.Key, out var v) && StrictEqual(e.Value, v)
            && y.Keys.Any(k => k.GetType() == e.Key.GetType() && k.Equals(e.Key))),
        (IReadOnlyList<object?> x, IReadOnlyList<object?> y) when a is not string && b is not string =>
            x.Count == y.Count && x.Zip(y).All(p => StrictEqual(p.First, p.Second)),
        _ => a is not null && b is not null && a.GetType() == b.GetType() && a.Equals(b),
    };
}
