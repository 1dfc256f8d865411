namespace ImagePromotion.Gates.Cel;

/// <summary>
/// Equality, ordering and arithmetic with cel-spec semantics: equality is heterogeneous (values of
/// different types are simply unequal, numbers compare by value across int/uint/double), ordering works
/// across numeric types, arithmetic does not mix types and fails on overflow instead of wrapping.
/// </summary>
internal static class CelOperators
{
    public static CelRuntimeException NoOverload(string op, params object?[] args) =>
        new($"no such overload: {op}({string.Join(", ", args.Select(CelTypes.NameOf))})");

    public static bool Equal(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null): return true;
            case (null, _) or (_, null): return false;
            case (long x, long y): return x == y;
            case (ulong x, ulong y): return x == y;
            case (double x, double y): return x == y;
            case (long or ulong or double, long or ulong or double): return CompareNumbers(a, b) == 0;
            case (string x, string y): return string.Equals(x, y, StringComparison.Ordinal);
            case (bool x, bool y): return x == y;
            case (CelBytes x, CelBytes y): return x.Equals(y);
            case (CelTimestamp x, CelTimestamp y): return x == y;
            case (CelDuration x, CelDuration y): return x == y;
            case (CelType x, CelType y): return x.Name == y.Name;
            case (CelMap x, CelMap y):
                if (x.Count != y.Count) return false;
                foreach (var (k, v) in x)
                    if (!y.TryGet(k, out var other) || !Equal(v, other)) return false;
                return true;
            case (CelMap, _) or (_, CelMap): return false;
            case (IReadOnlyList<object?> x, IReadOnlyList<object?> y):
                if (x.Count != y.Count) return false;
                for (var i = 0; i < x.Count; i++)
                    if (!Equal(x[i], y[i])) return false;
                return true;
            default: return false;
        }
    }

    /// <summary>Three-way comparison for the ordering operators; NaN compares as null (every ordering is false).</summary>
    public static int? Compare(string op, object? a, object? b) => (a, b) switch
    {
        (long or ulong or double, long or ulong or double) => CompareNumbers(a, b),
        (string x, string y) => Math.Sign(CompareCodePoints(x, y)),
        (bool x, bool y) => x.CompareTo(y),
        (CelBytes x, CelBytes y) => Math.Sign(x.CompareTo(y)),
        (CelTimestamp x, CelTimestamp y) => x.CompareTo(y),
        (CelDuration x, CelDuration y) => x.CompareTo(y),
        _ => throw NoOverload(op, a, b),
    };

    private static int CompareCodePoints(string x, string y)
    {
        // Ordinal UTF-16 order differs from code point order only for surrogate pairs; compare runes.
        var ex = x.EnumerateRunes();
        var ey = y.EnumerateRunes();
        while (true)
        {
            var hx = ex.MoveNext();
            var hy = ey.MoveNext();
            if (!hx || !hy) return hx == hy ? 0 : hx ? 1 : -1;
            var c = ex.Current.Value.CompareTo(ey.Current.Value);
            if (c != 0) return c;
        }
    }

    private static int? CompareNumbers(object a, object b)
    {
        switch (a, b)
        {
            case (long x, long y): return x.CompareTo(y);
            case (ulong x, ulong y): return x.CompareTo(y);
            case (long x, ulong y): return x < 0 ? -1 : ((ulong)x).CompareTo(y);
            case (ulong x, long y): return y < 0 ? 1 : x.CompareTo((ulong)y);
        }
        var dx = ToDouble(a);
        var dy = ToDouble(b);
        if (double.IsNaN(dx) || double.IsNaN(dy)) return null;
        return dx.CompareTo(dy);
    }

    private static double ToDouble(object v) => v switch { long l => l, ulong u => u, _ => (double)v };

    public static object Add(object? a, object? b)
    {
        try
        {
            return (a, b) switch
            {
                (long x, long y) => (object)checked(x + y),
                (ulong x, ulong y) => checked(x + y),
                (double x, double y) => x + y,
                (string x, string y) => x + y,
                (CelBytes x, CelBytes y) => new CelBytes([.. x.Value, .. y.Value]),
                (IReadOnlyList<object?> x, IReadOnlyList<object?> y) when a is not CelMap && b is not CelMap => x.Concat(y).ToArray(),
                (CelTimestamp x, CelDuration y) => CelTime.Add(x, y),
                (CelDuration x, CelTimestamp y) => CelTime.Add(y, x),
                (CelDuration x, CelDuration y) => CelTime.Add(x, y),
                _ => throw NoOverload("_+_", a, b),
            };
        }
        catch (OverflowException)
        {
            throw new CelRuntimeException("return error for overflow");
        }
    }

    public static object Subtract(object? a, object? b)
    {
        try
        {
            return (a, b) switch
            {
                (long x, long y) => (object)checked(x - y),
                (ulong x, ulong y) => checked(x - y),
                (double x, double y) => x - y,
                (CelTimestamp x, CelTimestamp y) => CelTime.Subtract(x, y),
                (CelTimestamp x, CelDuration y) => CelTime.Subtract(x, y),
                (CelDuration x, CelDuration y) => CelTime.Subtract(x, y),
                _ => throw NoOverload("_-_", a, b),
            };
        }
        catch (OverflowException)
        {
            throw new CelRuntimeException("return error for overflow");
        }
    }

    public static object Multiply(object? a, object? b)
    {
        try
        {
            return (a, b) switch
            {
                (long x, long y) => (object)checked(x * y), // (object): keep int results int, not widened to double
                (ulong x, ulong y) => checked(x * y),
                (double x, double y) => x * y,
                _ => throw NoOverload("_*_", a, b),
            };
        }
        catch (OverflowException)
        {
            throw new CelRuntimeException("return error for overflow");
        }
    }

    public static object Divide(object? a, object? b) => (a, b) switch
    {
        (long, 0L) or (ulong, 0UL) => throw new CelRuntimeException("division by zero"),
        (long x, long y) => x == long.MinValue && y == -1 ? throw new CelRuntimeException("return error for overflow") : (object)(x / y),
        (ulong x, ulong y) => x / y,
        (double x, double y) => x / y,
        _ => throw NoOverload("_/_", a, b),
    };

    public static object Modulo(object? a, object? b) => (a, b) switch
    {
        (long, 0L) or (ulong, 0UL) => throw new CelRuntimeException("modulus by zero"),
        (long x, long y) => y == -1 ? 0L : (object)(x % y),
        (ulong x, ulong y) => x % y,
        _ => throw NoOverload("_%_", a, b),
    };

    public static object Negate(object? a) => a switch
    {
        long x => x == long.MinValue ? throw new CelRuntimeException("return error for overflow") : (object)-x,
        double x => -x,
        CelDuration d => CelTime.Negate(d),
        _ => throw NoOverload("-_", a),
    };

    public static bool In(object? element, object? container) => container switch
    {
        CelMap map => map.ContainsKey(element),
        IReadOnlyList<object?> list => list.Any(e => Equal(e, element)),
        _ => throw NoOverload("@in", element, container),
    };

    public static object? Index(object? operand, object? index)
    {
        switch (operand)
        {
            case CelMap map:
                // A key of a type no map key can have is simply absent (comparisons.textproto /
                // fields.textproto map_bad_key_type: "no such key"), as heterogeneous equality implies.
                return map.TryGet(index, out var v) ? v : throw new CelRuntimeException($"no such key: {CelTypes.Format(index)}");
            case IReadOnlyList<object?> list:
                long i = index switch
                {
                    long l => l,
                    ulong u when u <= long.MaxValue => (long)u,
                    double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
                    double => throw new CelRuntimeException($"unsupported index value {CelTypes.Format(index)}"),
                    _ => throw NoOverload("_[_]", operand, index),
                };
                if (i < 0 || i >= list.Count) throw new CelRuntimeException($"index out of range: {i} (list size {list.Count})");
                return list[(int)i];
            default:
                throw NoOverload("_[_]", operand, index);
        }
    }
}
