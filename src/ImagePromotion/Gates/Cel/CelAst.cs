namespace ImagePromotion.Gates.Cel;

// The parsed form of an expression. Column is 1-based and points at the node's operator or first token.

internal abstract record CelNode(int Column);

internal sealed record LiteralNode(object? Value, int Column) : CelNode(Column);

internal sealed record IdentNode(string Name, int Column) : CelNode(Column);

/// <summary><c>operand.field</c>; with TestOnly it is the <c>has(operand.field)</c> macro.</summary>
internal sealed record SelectNode(CelNode Operand, string Field, bool TestOnly, int Column) : CelNode(Column);

internal sealed record IndexNode(CelNode Operand, CelNode Index, int Column) : CelNode(Column);

/// <summary>A function or operator call; Target is the receiver of <c>x.f(...)</c> calls.</summary>
internal sealed record CallNode(CelNode? Target, string Function, IReadOnlyList<CelNode> Args, int Column) : CelNode(Column);

internal sealed record ListNode(IReadOnlyList<CelNode> Elements, int Column) : CelNode(Column);

internal sealed record MapNode(IReadOnlyList<(CelNode Key, CelNode Value)> Entries, int Column) : CelNode(Column);

internal sealed record ConditionalNode(CelNode Condition, CelNode Then, CelNode Else, int Column) : CelNode(Column);

internal sealed record AndNode(CelNode Left, CelNode Right, int Column) : CelNode(Column);

internal sealed record OrNode(CelNode Left, CelNode Right, int Column) : CelNode(Column);

internal enum MacroKind { All, Exists, ExistsOne, Map, Filter }

/// <summary>
/// A comprehension macro over a list (elements) or map (keys): <c>r.all(x, p)</c>, <c>exists</c>,
/// <c>exists_one</c>, <c>filter</c>, <c>map(x, t)</c> and <c>map(x, p, t)</c> (Filter is then the predicate).
/// </summary>
internal sealed record MacroNode(MacroKind Kind, CelNode Range, string Variable, CelNode? Predicate, CelNode? Transform, int Column) : CelNode(Column);
