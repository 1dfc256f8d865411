namespace ImagePromotion.Gates.Cel;

/// <summary>
/// Tree-walking evaluator. Errors travel as <see cref="CelRuntimeException"/>; the logical operators and the
/// exists/all macros catch them so that, as cel-spec requires, <c>false &amp;&amp; error</c> is false and
/// <c>true || error</c> is true whichever side the error is on.
/// </summary>
internal sealed class CelEvaluator(IReadOnlyDictionary<string, object?> variables)
{
    // A policy is evaluated per promotion; a runaway comprehension must end, not hang the pipeline.
    private const long MaxIterations = 100_000;
    private long _iterations;

    /// <summary>Macro iteration variables, innermost last; they shadow host variables.</summary>
    private readonly List<(string Name, object? Value)> _locals = new();

    public object? Evaluate(CelNode node)
    {
        try { return Eval(node); }
        catch (CelRuntimeException e) { return new CelError(e.Message); }
        catch (InsufficientExecutionStackException) { return new CelError("expression too deeply nested to evaluate"); }
    }

    private object? Eval(CelNode node)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (node)
        {
            case LiteralNode lit: return lit.Value;
            case IdentNode id: return Resolve(id.Name);
            case SelectNode sel: return Select(sel);
            case IndexNode idx: return CelOperators.Index(Eval(idx.Operand), Eval(idx.Index));
            case ListNode list: return list.Elements.Select(Eval).ToArray();
            case MapNode map: return BuildMap(map);
            case AndNode and: return Logical(and.Left, and.Right, absorbing: false, "_&&_");
            case OrNode or: return Logical(or.Left, or.Right, absorbing: true, "_||_");
            case ConditionalNode c:
                return Eval(c.Condition) switch
                {
                    true => Eval(c.Then),
                    false => Eval(c.Else),
                    var other => throw CelOperators.NoOverload("_?_:_", other),
                };
            case CallNode call: return Call(call);
            case MacroNode macro: return Macro(macro);
            default: throw new CelRuntimeException($"unsupported expression node {node.GetType().Name}");
        }
    }

    private object? Resolve(string name)
    {
        for (var i = _locals.Count - 1; i >= 0; i--)
            if (_locals[i].Name == name) return _locals[i].Value;
        if (variables.TryGetValue(name, out var v)) return v;
        if (CelTypes.ByName.TryGetValue(name, out var type)) return type;
        throw new CelRuntimeException($"undeclared reference to '{name}'");
    }

    private object? Select(SelectNode sel)
    {
        // A dotted name may itself be a variable ("image.digest" bound as one name); it wins over selection.
        if (!sel.TestOnly && QualifiedName(sel) is { } qualified && !IsLocal(qualified))
        {
            if (variables.TryGetValue(qualified, out var bound)) return bound;
            // Qualified type names (google.protobuf.Timestamp, google.protobuf.Duration) are identifiers
            // (langdef "Name Resolution"), unless their first segment is a variable.
            if (CelTypes.ByName.TryGetValue(qualified, out var type) && !variables.ContainsKey(qualified.Split('.')[0])) return type;
        }
        var operand = Eval(sel.Operand);
        if (operand is not CelMap map)
            throw new CelRuntimeException($"type '{CelTypes.NameOf(operand)}' does not support field selection ('.{sel.Field}')");
        if (sel.TestOnly) return map.ContainsKey(sel.Field);
        return map.TryGet(sel.Field, out var value) ? value : throw new CelRuntimeException($"no such key: '{sel.Field}'");
    }

    private bool IsLocal(string qualified)
    {
        var root = qualified.Split('.')[0];
        return _locals.Any(l => l.Name == root);
    }

    private static string? QualifiedName(CelNode node) => node switch
    {
        IdentNode id => id.Name,
        SelectNode { TestOnly: false } s when QualifiedName(s.Operand) is { } prefix => prefix + "." + s.Field,
        _ => null,
    };

    private CelMap BuildMap(MapNode node)
    {
        var map = new CelMap();
        foreach (var (keyNode, valueNode) in node.Entries)
        {
            var key = Eval(keyNode);
            if (key is not (string or bool or long or ulong))
                throw new CelRuntimeException($"unsupported map key type '{CelTypes.NameOf(key)}'");
            if (!map.TryAdd(key, Eval(valueNode)))
                throw new CelRuntimeException($"Failed with repeated key: {CelTypes.Format(key)}");
        }
        return map;
    }

    /// <summary>
    /// Commutative &amp;&amp; / ||: the absorbing value (false for AND, true for OR) on either side decides
    /// the result even if the other side is an error or not a bool.
    /// </summary>
    private object Logical(CelNode leftNode, CelNode rightNode, bool absorbing, string op)
    {
        var (left, leftError) = TryEval(leftNode);
        if (left is bool lb && lb == absorbing) return absorbing;
        var (right, rightError) = TryEval(rightNode);
        if (right is bool rb && rb == absorbing) return absorbing;
        if (leftError is not null) throw leftError;
        if (rightError is not null) throw rightError;
        if (left is bool && right is bool) return !absorbing;
        throw CelOperators.NoOverload(op, left, right);
    }

    private (object? Value, CelRuntimeException? Error) TryEval(CelNode node)
    {
        try { return (Eval(node), null); }
        catch (CelRuntimeException e) { return (null, e); }
    }

    private object? Call(CallNode call)
    {
        switch (call.Function)
        {
            case "!_":
                {
                    var operand = Eval(call.Args[0]);
                    return operand is bool b ? !b : throw CelOperators.NoOverload("!_", operand);
                }
            case "-_": return CelOperators.Negate(Eval(call.Args[0]));
        }
        var target = call.Target is null ? null : Eval(call.Target);
        var args = call.Args.Select(Eval).ToArray();
        return call.Function switch
        {
            "_==_" => CelOperators.Equal(args[0], args[1]),
            "_!=_" => !CelOperators.Equal(args[0], args[1]),
            "_<_" => CelOperators.Compare("_<_", args[0], args[1]) is { } c1 && c1 < 0,
            "_<=_" => CelOperators.Compare("_<=_", args[0], args[1]) is { } c2 && c2 <= 0,
            "_>_" => CelOperators.Compare("_>_", args[0], args[1]) is { } c3 && c3 > 0,
            "_>=_" => CelOperators.Compare("_>=_", args[0], args[1]) is { } c4 && c4 >= 0,
            "@in" => CelOperators.In(args[0], args[1]),
            "_+_" => CelOperators.Add(args[0], args[1]),
            "_-_" => CelOperators.Subtract(args[0], args[1]),
            "_*_" => CelOperators.Multiply(args[0], args[1]),
            "_/_" => CelOperators.Divide(args[0], args[1]),
            "_%_" => CelOperators.Modulo(args[0], args[1]),
            _ => CelFunctions.Call(call.Function, target, call.Target is not null, args),
        };
    }

    private object? Macro(MacroNode m)
    {
        var range = Eval(m.Range);
        IReadOnlyList<object?> items = range switch
        {
            CelMap map => map.Keys.ToArray(),
            IReadOnlyList<object?> list => list,
            _ => throw new CelRuntimeException($"{m.Kind.ToString().ToLowerInvariant()}() needs a list or map, not '{CelTypes.NameOf(range)}'"),
        };
        _locals.Add((m.Variable, null));
        try
        {
            return m.Kind switch
            {
                MacroKind.All => Quantify(items, m, absorbing: false),
                MacroKind.Exists => Quantify(items, m, absorbing: true),
                MacroKind.ExistsOne => ExistsOne(items, m),
                MacroKind.Filter => items.Where(item => Predicate(item, m)).ToArray(),
                _ => items.Where(item => m.Predicate is null || Predicate(item, m)).Select(item => Bind(item, m.Transform!)).ToArray(),
            };
        }
        finally { _locals.RemoveAt(_locals.Count - 1); }
    }

    private object? Bind(object? item, CelNode body)
    {
        if (++_iterations > MaxIterations) throw new CelRuntimeException($"comprehension exceeded {MaxIterations} iterations");
        _locals[^1] = (_locals[^1].Name, item);
        return Eval(body);
    }

    private bool Predicate(object? item, MacroNode m) =>
        Bind(item, m.Predicate!) is bool b ? b : throw new CelRuntimeException("no such overload: predicate is not a bool");

    // all() is a chain of &&, exists() a chain of ||: the absorbing value wins over earlier errors.
    private bool Quantify(IReadOnlyList<object?> items, MacroNode m, bool absorbing)
    {
        CelRuntimeException? firstError = null;
        foreach (var item in items)
        {
            try
            {
                if (Predicate(item, m) == absorbing) return absorbing;
            }
            catch (CelRuntimeException e) { firstError ??= e; }
        }
        if (firstError is not null) throw firstError;
        return !absorbing;
    }

    private bool ExistsOne(IReadOnlyList<object?> items, MacroNode m)
    {
        var count = 0;
        foreach (var item in items)
            if (Predicate(item, m)) count++;
        return count == 1;
    }
}
