namespace ImagePromotion.Gates.Cel;

/// <summary>
/// Recursive-descent parser for CEL with the spec's precedence, lowest first:
/// <c>?:</c>, <c>||</c>, <c>&amp;&amp;</c>, relations (<c>== != &lt; &lt;= &gt; &gt;= in</c>), <c>+ -</c>,
/// <c>* / %</c>, unary <c>! -</c>, then member access, calls and indexing. Macros are expanded here.
/// </summary>
internal sealed class CelParser
{
    // Deeply nested input must fail as a syntax error, not as a stack overflow in the host.
    private const int MaxDepth = 200;

    // langdef "Syntax": RESERVED words cannot be identifiers or global function names, but may be field
    // selectors and receiver-call names ({'if': 1}.if, a.package()).
    private static readonly HashSet<string> Reserved =
    [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ];

    private readonly List<Token> _tokens;
    private int _pos;
    private int _depth;

    private CelParser(List<Token> tokens) => _tokens = tokens;

    public static CelNode Parse(string source)
    {
        var parser = new CelParser(new CelLexer(source).Tokenize());
        var node = parser.Expr();
        var end = parser.Current;
        if (end.Kind != TokenKind.End) throw new CelSyntaxException($"unexpected '{end.Text}' after the end of the expression", end.Column);
        return node;
    }

    private Token Current => _tokens[_pos];
    private Token PeekAt(int ahead) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    private Token Advance() => _tokens[_pos++];

    private bool Accept(TokenKind kind)
    {
        if (Current.Kind != kind) return false;
        _pos++;
        return true;
    }

    private Token Expect(TokenKind kind, string what)
    {
        if (Current.Kind == kind) return Advance();
        var found = Current.Kind == TokenKind.End ? "the end of the expression" : $"'{Current.Text}'";
        throw new CelSyntaxException($"expected {what} but found {found}", Current.Column);
    }

    private CelNode Expr()
    {
        if (++_depth > MaxDepth) throw new CelSyntaxException($"expression is nested more than {MaxDepth} levels deep", Current.Column);
        try
        {
            var cond = Or();
            if (Current.Kind != TokenKind.Question) return cond;
            var q = Advance();
            var then = Or();
            Expect(TokenKind.Colon, "':' of the conditional operator");
            var otherwise = Expr();
            return new ConditionalNode(cond, then, otherwise, q.Column);
        }
        finally { _depth--; }
    }

    private CelNode Or()
    {
        var left = And();
        while (Current.Kind == TokenKind.Or)
        {
            var op = Advance();
            left = new OrNode(left, And(), op.Column);
        }
        return left;
    }

    private CelNode And()
    {
        var left = Relation();
        while (Current.Kind == TokenKind.And)
        {
            var op = Advance();
            left = new AndNode(left, Relation(), op.Column);
        }
        return left;
    }

    private CelNode Relation()
    {
        var left = Addition();
        while (true)
        {
            var fn = Current.Kind switch
            {
                TokenKind.Eq => "_==_",
                TokenKind.Ne => "_!=_",
                TokenKind.Lt => "_<_",
                TokenKind.Le => "_<=_",
                TokenKind.Gt => "_>_",
                TokenKind.Ge => "_>=_",
                TokenKind.In => "@in",
                _ => null,
            };
            if (fn is null) return left;
            var op = Advance();
            left = new CallNode(null, fn, [left, Addition()], op.Column);
        }
    }

    private CelNode Addition()
    {
        var left = Multiplication();
        while (Current.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            var op = Advance();
            left = new CallNode(null, op.Kind == TokenKind.Plus ? "_+_" : "_-_", [left, Multiplication()], op.Column);
        }
        return left;
    }

    private CelNode Multiplication()
    {
        var left = Unary();
        while (Current.Kind is TokenKind.Star or TokenKind.Slash or TokenKind.Percent)
        {
            var op = Advance();
            var fn = op.Kind switch { TokenKind.Star => "_*_", TokenKind.Slash => "_/_", _ => "_%_" };
            left = new CallNode(null, fn, [left, Unary()], op.Column);
        }
        return left;
    }

    private CelNode Unary()
    {
        if (++_depth > MaxDepth) throw new CelSyntaxException($"expression is nested more than {MaxDepth} levels deep", Current.Column);
        try { return UnaryInner(); }
        finally { _depth--; }
    }

    private CelNode UnaryInner()
    {
        if (Current.Kind == TokenKind.Not)
        {
            var op = Advance();
            return new CallNode(null, "!_", [Unary()], op.Column);
        }
        if (Current.Kind == TokenKind.Minus)
        {
            var op = Advance();
            // Fold '-' into a numeric literal so the most negative int64 is expressible.
            if (Current.Kind is TokenKind.Int or TokenKind.Double && PeekAt(1).Kind is not (TokenKind.Dot or TokenKind.LBracket))
            {
                var lit = Advance();
                if (lit.Kind == TokenKind.Double) return new LiteralNode(-(double)lit.Value!, op.Column);
                var magnitude = (ulong)lit.Value!;
                if (magnitude > 9223372036854775808UL) throw new CelSyntaxException($"integer literal '-{lit.Text}' is out of range", op.Column);
                return new LiteralNode(magnitude == 9223372036854775808UL ? long.MinValue : -(long)magnitude, op.Column);
            }
            return new CallNode(null, "-_", [Unary()], op.Column);
        }
        return Member();
    }

    private CelNode Member()
    {
        var node = Primary();
        while (true)
        {
            if (Current.Kind == TokenKind.Dot)
            {
                Advance();
                if (Current.Kind == TokenKind.QuotedIdent)
                {
                    var quoted = Advance();
                    node = new SelectNode(node, (string)quoted.Value!, false, quoted.Column);
                    continue;
                }
                var name = Expect(TokenKind.Ident, "a field or method name after '.'");
                if (Current.Kind == TokenKind.LParen)
                {
                    Advance();
                    var args = Arguments(TokenKind.RParen);
                    node = MemberCall(node, name, args);
                }
                else node = new SelectNode(node, name.Text, false, name.Column);
            }
            else if (Current.Kind == TokenKind.LBracket)
            {
                var open = Advance();
                var index = Expr();
                Expect(TokenKind.RBracket, "']'");
                node = new IndexNode(node, index, open.Column);
            }
            else if (Current.Kind == TokenKind.LBrace && node is IdentNode or SelectNode)
                throw new CelSyntaxException("message construction (Type{...}) is not supported", Current.Column);
            else return node;
        }
    }

    private CelNode MemberCall(CelNode target, Token name, List<CelNode> args)
    {
        MacroKind? kind = (name.Text, args.Count) switch
        {
            ("all", 2) => MacroKind.All,
            ("exists", 2) => MacroKind.Exists,
            ("exists_one", 2) => MacroKind.ExistsOne,
            ("filter", 2) => MacroKind.Filter,
            ("map", 2 or 3) => MacroKind.Map,
            _ => null,
        };
        if (kind is null) return new CallNode(target, name.Text, args, name.Column);
        if (args[0] is not IdentNode variable)
            throw new CelSyntaxException($"the first argument of {name.Text}() must be a variable name", args[0].Column);
        return kind switch
        {
            MacroKind.Map when args.Count == 3 => new MacroNode(MacroKind.Map, target, variable.Name, args[1], args[2], name.Column),
            MacroKind.Map => new MacroNode(MacroKind.Map, target, variable.Name, null, args[1], name.Column),
            _ => new MacroNode(kind.Value, target, variable.Name, args[1], null, name.Column),
        };
    }

    private List<CelNode> Arguments(TokenKind close)
    {
        var args = new List<CelNode>();
        if (Accept(close)) return args;
        while (true)
        {
            args.Add(Expr());
            if (Accept(close)) return args;
            Expect(TokenKind.Comma, close == TokenKind.RParen ? "',' or ')'" : "',' or ']'");
            if (Accept(close)) return args; // trailing comma
        }
    }

    private CelNode Primary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TokenKind.Int:
                Advance();
                var magnitude = (ulong)t.Value!;
                if (magnitude > long.MaxValue) throw new CelSyntaxException($"integer literal '{t.Text}' is out of range", t.Column);
                return new LiteralNode((long)magnitude, t.Column);
            case TokenKind.Uint:
            case TokenKind.Double:
            case TokenKind.String:
            case TokenKind.Bytes:
            case TokenKind.True:
            case TokenKind.False:
                Advance();
                return new LiteralNode(t.Value, t.Column);
            case TokenKind.Null:
                Advance();
                return new LiteralNode(null, t.Column);
            case TokenKind.LParen:
                {
                    Advance();
                    var inner = Expr();
                    Expect(TokenKind.RParen, "')'");
                    return inner;
                }
            case TokenKind.LBracket:
                Advance();
                return new ListNode(Arguments(TokenKind.RBracket), t.Column);
            case TokenKind.LBrace:
                Advance();
                return MapLiteral(t);
            case TokenKind.Dot:
                Advance(); // a leading '.' names the root scope; there are no nested scopes to escape
                return Identifier(Expect(TokenKind.Ident, "an identifier after '.'"));
            case TokenKind.Ident:
                Advance();
                return Identifier(t);
            case TokenKind.End:
                throw new CelSyntaxException("expression ends too early", t.Column);
            default:
                throw new CelSyntaxException($"unexpected '{t.Text}'", t.Column);
        }
    }

    private CelNode Identifier(Token name)
    {
        if (Reserved.Contains(name.Text)) throw new CelSyntaxException($"'{name.Text}' is a reserved word", name.Column);
        if (Current.Kind != TokenKind.LParen) return new IdentNode(name.Text, name.Column);
        Advance();
        var args = Arguments(TokenKind.RParen);
        if (name.Text != "has") return new CallNode(null, name.Text, args, name.Column);
        if (args.Count != 1 || args[0] is not SelectNode select)
            throw new CelSyntaxException("has() takes one field selection, e.g. has(labels.team)", name.Column);
        return select with { TestOnly = true };
    }

    private CelNode MapLiteral(Token open)
    {
        var entries = new List<(CelNode, CelNode)>();
        if (Accept(TokenKind.RBrace)) return new MapNode(entries, open.Column);
        while (true)
        {
            var key = Expr();
            Expect(TokenKind.Colon, "':' between map key and value");
            entries.Add((key, Expr()));
            if (Accept(TokenKind.RBrace)) return new MapNode(entries, open.Column);
            Expect(TokenKind.Comma, "',' or '}'");
            if (Accept(TokenKind.RBrace)) return new MapNode(entries, open.Column);
        }
    }
}
