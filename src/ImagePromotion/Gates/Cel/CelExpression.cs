namespace ImagePromotion.Gates.Cel;

/// <summary>
/// A parsed CEL expression, ready to evaluate many times. Parsing fails with a one-line
/// <see cref="PromotionException"/> naming the expression and the column; evaluation never throws for
/// expression faults: it returns a <see cref="CelError"/> value instead, so callers decide what an error means.
/// </summary>
public sealed class CelExpression
{
    private readonly CelNode _root;

    private CelExpression(string text, CelNode root)
    {
        Text = text;
        _root = root;
    }

    /// <summary>The expression source as written in the configuration.</summary>
    public string Text { get; }

    /// <param name="expression">CEL source text.</param>
    /// <param name="origin">Where the text came from, for the error message (e.g. "policy 'prod' passCondition").</param>
    public static CelExpression Compile(string expression, string? origin = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        try
        {
            return new CelExpression(expression, CelParser.Parse(expression));
        }
        catch (CelSyntaxException e)
        {
            var where = origin is null ? "" : origin + ": ";
            throw new PromotionException(
                $"{where}CEL expression '{expression}' has a syntax error at column {e.Column}: {e.Message}; fix the expression");
        }
    }

    /// <summary>
    /// Evaluates against variables; values are converted with <see cref="CelTypes.FromClr"/>, so ints,
    /// string lists, string dictionaries, DateTimeOffset and TimeSpan can be passed directly. Returns the value
    /// (timestamps and durations as <see cref="CelTimestamp"/> and <see cref="CelDuration"/>, which keep
    /// CEL's nanoseconds) or a <see cref="CelError"/>; a variable that cannot be converted throws
    /// <see cref="ArgumentException"/>.
    /// </summary>
    public object? Evaluate(IReadOnlyDictionary<string, object?>? variables = null)
    {
        var bound = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (variables is not null)
            foreach (var (name, value) in variables) bound[name] = CelTypes.FromClr(value);
        return new CelEvaluator(bound).Evaluate(_root);
    }

    /// <summary>The expression source.</summary>
    public override string ToString() => Text;
}
