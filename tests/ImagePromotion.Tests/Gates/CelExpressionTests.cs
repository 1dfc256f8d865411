using System.Diagnostics;
using ImagePromotion.Gates.Cel;

namespace ImagePromotion.Tests.Gates;

[TestFixture]
public sealed class CelExpressionTests
{
    private static object? Eval(string expr, IReadOnlyDictionary<string, object?>? vars = null) =>
        CelExpression.Compile(expr).Evaluate(vars);

    [TestCase("a &&", 5, "ends too early")]
    [TestCase("size(tags) = 2", 12, "'=' is not an operator")]
    [TestCase("'unterminated", 1, "not closed")]
    [TestCase("[1, 2", 6, "expected")]
    [TestCase("a ? b", 6, "':' of the conditional")]
    [TestCase("x.exists(1, true)", 10, "must be a variable name")]
    [TestCase("has(x)", 1, "has() takes one field selection")]
    [TestCase("1 2", 3, "after the end")]
    [TestCase("'\\q'", 2, "unknown escape")]
    public void Syntax_error_is_one_line_naming_expression_and_column(string expr, int column, string detail)
    {
        var e = Assert.Throws<PromotionException>(() => CelExpression.Compile(expr, "policy 'prod' passCondition"))!;
        Assert.That(e.Message, Does.StartWith("policy 'prod' passCondition: CEL expression '" + expr + "'"));
        Assert.That(e.Message, Does.Contain($"at column {column}:"));
        Assert.That(e.Message, Does.Contain(detail));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Multi_line_expression_error_message_stays_one_line()
    {
        var e = Assert.Throws<PromotionException>(() => CelExpression.Compile("true &&\n  (1 +"))!;
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.That(e.Message, Does.Contain("column"));
    }

    [Test]
    public void Deep_nesting_is_a_syntax_error_not_a_crash()
    {
        var expr = new string('(', 5000) + "1" + new string(')', 5000);
        var e = Assert.Throws<PromotionException>(() => CelExpression.Compile(expr))!;
        Assert.That(e.Message, Does.Contain("nested more than"));
        var bangs = new string('!', 5000) + "true";
        Assert.Throws<PromotionException>(() => CelExpression.Compile(bangs));
    }

    [Test]
    public void Host_values_convert_to_cel_values()
    {
        var vars = new Dictionary<string, object?>
        {
            ["count"] = 3,
            ["tags"] = new List<string> { "v1.2.3", "latest" },
            ["labels"] = new Dictionary<string, string> { ["team"] = "core" },
            ["scan"] = new Dictionary<string, long> { ["critical"] = 0 },
            ["builtAt"] = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            ["age"] = TimeSpan.FromHours(30),
            ["ratio"] = 0.5f,
        };
        Assert.That(Eval("count + 1 == 4 && size(tags) == 2 && labels.team == 'core' && scan.critical == 0", vars), Is.EqualTo(true));
        Assert.That(Eval("builtAt == timestamp('2024-01-01T00:00:00Z') && age > duration('1d')", vars), Is.InstanceOf<CelError>(),
            "'1d' is not a CEL duration unit");
        Assert.That(Eval("builtAt + age == timestamp('2024-01-02T06:00:00Z') && ratio == 0.5", vars), Is.EqualTo(true));
    }

    [Test]
    public void Host_time_values_keep_their_instant_and_length()
    {
        var vars = new Dictionary<string, object?>
        {
            ["berlin"] = new DateTimeOffset(2024, 3, 31, 1, 30, 0, TimeSpan.FromHours(1)),
            ["soak"] = TimeSpan.FromTicks(15), // 1.5 microseconds: ticks are 100 ns
        };
        Assert.That(Eval("berlin == timestamp('2024-03-31T00:30:00Z')", vars), Is.EqualTo(true));
        Assert.That(Eval("soak == duration('1500ns')", vars), Is.EqualTo(true));
    }

    [Test]
    public void Host_duration_beyond_the_cel_range_is_rejected()
    {
        // cel-spec langdef "Overflow": a duration is one int64 of nanoseconds, about 292 years.
        var vars = new Dictionary<string, object?> { ["age"] = TimeSpan.FromDays(365.25 * 300) };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Eval("age", vars))!;
        Assert.That(e.Message, Does.Contain("292 years"));
    }

    [Test]
    public void Unsupported_host_object_is_rejected()
    {
        var vars = new Dictionary<string, object?> { ["x"] = new Uri("https://example.invalid") };
        Assert.Throws<ArgumentException>(() => Eval("x", vars));
    }

    [Test]
    public void Evaluation_results_are_plain_clr_values()
    {
        Assert.That(Eval("1 + 2"), Is.EqualTo(3L));
        Assert.That(Eval("'a' + 'b'"), Is.EqualTo("ab"));
        Assert.That(Eval("[1, 'x']"), Is.EqualTo(new object?[] { 1L, "x" }));
        Assert.That(Eval("duration('90s')"), Is.EqualTo(new CelDuration(90_000_000_000)));
        Assert.That(((CelDuration)Eval("duration('1.5s')")!).ToTimeSpan(), Is.EqualTo(TimeSpan.FromMilliseconds(1500)));
        Assert.That(((CelTimestamp)Eval("timestamp('2024-01-02T03:04:05.000000678Z')")!).ToDateTimeOffset(),
            Is.EqualTo(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(6)), "nanoseconds round down to ticks");
        var map = (CelMap)Eval("{'b': 2, 'a': 1}")!;
        Assert.That(map.Keys, Is.EqualTo(new object[] { "b", "a" }), "insertion order is kept");
    }

    [Test]
    public void Catastrophic_regex_runs_in_linear_time()
    {
        var sw = Stopwatch.StartNew();
        var result = Eval("s.matches('(x+x+)+y')", new Dictionary<string, object?> { ["s"] = new string('x', 5000) });
        Assert.That(result, Is.EqualTo(false));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void Regex_backreference_is_rejected_as_not_re2()
    {
        var result = Eval("'aa'.matches('(a)\\\\1')");
        Assert.That(result, Is.InstanceOf<CelError>());
        Assert.That(((CelError)result!).Message, Does.Contain("not RE2 syntax"));
    }

    [Test]
    public void Runaway_comprehension_is_stopped()
    {
        var big = Enumerable.Range(0, 400).Select(i => (object?)(long)i).ToArray();
        var result = Eval("xs.all(a, xs.all(b, true))", new Dictionary<string, object?> { ["xs"] = big });
        Assert.That(result, Is.InstanceOf<CelError>());
        Assert.That(((CelError)result!).Message, Does.Contain("iterations"));
    }

    [Test]
    public void Compiled_expression_is_reusable_with_different_variables()
    {
        var expr = CelExpression.Compile("branch.startsWith('release/')");
        Assert.That(expr.Evaluate(new Dictionary<string, object?> { ["branch"] = "release/1.4" }), Is.EqualTo(true));
        Assert.That(expr.Evaluate(new Dictionary<string, object?> { ["branch"] = "main" }), Is.EqualTo(false));
        Assert.That(expr.Evaluate(new Dictionary<string, object?> { ["branch"] = null }), Is.InstanceOf<CelError>());
    }

    [Test]
    public void Comments_and_newlines_are_whitespace()
    {
        Assert.That(Eval("1 + // one\n 2 // two"), Is.EqualTo(3L));
    }
}
