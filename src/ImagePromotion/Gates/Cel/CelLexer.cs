using System.Globalization;
using System.Text;

namespace ImagePromotion.Gates.Cel;

internal enum TokenKind
{
    End, Int, Uint, Double, String, Bytes, Ident, QuotedIdent,
    LParen, RParen, LBracket, RBracket, LBrace, RBrace, Dot, Comma, Colon, Question,
    Not, Minus, Plus, Star, Slash, Percent, Eq, Ne, Lt, Le, Gt, Ge, And, Or, In,
    True, False, Null,
}

/// <summary>A token with its 1-based column, so parse errors can point at the exact spot.</summary>
internal sealed record Token(TokenKind Kind, string Text, int Column, object? Value = null);

/// <summary>Thrown by the lexer and parser; the facade turns it into a one-line PromotionException.</summary>
internal sealed class CelSyntaxException(string message, int column) : Exception(message)
{
    public int Column { get; } = column;
}

/// <summary>Turns CEL source into tokens, decoding number and string literals (escapes, raw and triple quotes).</summary>
internal sealed class CelLexer(string source)
{
    private int _pos;

    public List<Token> Tokenize()
    {
        var tokens = new List<Token>();
        while (true)
        {
            SkipSpaceAndComments();
            if (_pos >= source.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", _pos + 1));
                return tokens;
            }
            tokens.Add(Next());
        }
    }

    private void SkipSpaceAndComments()
    {
        while (_pos < source.Length)
        {
            var c = source[_pos];
            if (c is ' ' or '\t' or '\r' or '\n' or '\f') _pos++;
            else if (c == '/' && Peek(1) == '/') { while (_pos < source.Length && source[_pos] != '\n') _pos++; }
            else return;
        }
    }

    private char Peek(int ahead) => _pos + ahead < source.Length ? source[_pos + ahead] : '\0';

    private Token Next()
    {
        var start = _pos;
        var c = source[_pos];
        if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(Peek(1)))) return Number();
        if (c is '"' or '\'') return Text(start, raw: false, bytes: false);
        if (c == '`') return QuotedIdentifier(start);
        if (char.IsAsciiLetter(c) || c == '_')
        {
            // String prefixes: r/R (raw), b/B (bytes), in either order.
            if (IsPrefixedQuote(out var raw, out var bytes, out var len)) { _pos += len; return Text(start, raw, bytes); }
            while (_pos < source.Length && (char.IsAsciiLetterOrDigit(source[_pos]) || source[_pos] == '_')) _pos++;
            var word = source[start.._pos];
            return word switch
            {
                "true" => new Token(TokenKind.True, word, start + 1, true),
                "false" => new Token(TokenKind.False, word, start + 1, false),
                "null" => new Token(TokenKind.Null, word, start + 1),
                "in" => new Token(TokenKind.In, word, start + 1),
                // Reserved words (as, if, ...) lex as identifiers: the parser allows them as field
                // selectors and receiver-call names and rejects them everywhere else.
                _ => new Token(TokenKind.Ident, word, start + 1),
            };
        }
        _pos++;
        TokenKind Two(char second, TokenKind two, TokenKind one)
        {
            if (Peek(0) == second) { _pos++; return two; }
            return one;
        }
        var kind = c switch
        {
            '(' => TokenKind.LParen,
            ')' => TokenKind.RParen,
            '[' => TokenKind.LBracket,
            ']' => TokenKind.RBracket,
            '{' => TokenKind.LBrace,
            '}' => TokenKind.RBrace,
            '.' => TokenKind.Dot,
            ',' => TokenKind.Comma,
            ':' => TokenKind.Colon,
            '?' => TokenKind.Question,
            '+' => TokenKind.Plus,
            '-' => TokenKind.Minus,
            '*' => TokenKind.Star,
            '/' => TokenKind.Slash,
            '%' => TokenKind.Percent,
            '!' => Two('=', TokenKind.Ne, TokenKind.Not),
            '<' => Two('=', TokenKind.Le, TokenKind.Lt),
            '>' => Two('=', TokenKind.Ge, TokenKind.Gt),
            '=' when Peek(0) == '=' => Two('=', TokenKind.Eq, TokenKind.Eq),
            '&' when Peek(0) == '&' => Two('&', TokenKind.And, TokenKind.And),
            '|' when Peek(0) == '|' => Two('|', TokenKind.Or, TokenKind.Or),
            '=' => throw new CelSyntaxException("'=' is not an operator; use '==' to compare", start + 1),
            _ => throw new CelSyntaxException($"unexpected character '{c}'", start + 1),
        };
        return new Token(kind, source[start.._pos], start + 1);
    }

    // A backtick-quoted field name, e.g. labels.`app.kubernetes.io/name` (cel-spec fields.textproto,
    // quoted_map_fields; cel-go's ESC_IDENTIFIER: letters, digits, '_', '.', '-', '/' and spaces).
    private Token QuotedIdentifier(int start)
    {
        _pos++;
        var nameStart = _pos;
        while (_pos < source.Length && (char.IsAsciiLetterOrDigit(source[_pos]) || source[_pos] is '_' or '.' or '-' or '/' or ' ')) _pos++;
        if (_pos >= source.Length || source[_pos] != '`' || _pos == nameStart)
            throw new CelSyntaxException("a quoted field name is letters, digits, '_', '.', '-', '/' or spaces between backticks", start + 1);
        _pos++;
        return new Token(TokenKind.QuotedIdent, source[start.._pos], start + 1, source[nameStart..(_pos - 1)]);
    }

    private bool IsPrefixedQuote(out bool raw, out bool bytes, out int length)
    {
        raw = bytes = false;
        length = 0;
        for (var i = 0; i < 2; i++)
        {
            var c = char.ToLowerInvariant(Peek(i));
            if (c == 'r' && !raw) raw = true;
            else if (c == 'b' && !bytes) bytes = true;
            else break;
            length = i + 1;
        }
        return length > 0 && Peek(length) is '"' or '\'';
    }

    private Token Number()
    {
        var start = _pos;
        if (source[_pos] == '0' && Peek(1) is 'x' or 'X')
        {
            _pos += 2;
            var hexStart = _pos;
            while (_pos < source.Length && char.IsAsciiHexDigit(source[_pos])) _pos++;
            var hex = source[hexStart.._pos];
            if (hex.Length == 0) throw new CelSyntaxException("hex literal needs digits after 0x", start + 1);
            if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hv))
                throw new CelSyntaxException($"integer literal '{source[start.._pos]}' is out of range", start + 1);
            return IntegerToken(start, hv);
        }
        var isDouble = false;
        while (_pos < source.Length && char.IsAsciiDigit(source[_pos])) _pos++;
        if (Peek(0) == '.' && char.IsAsciiDigit(Peek(1)))
        {
            isDouble = true;
            _pos++;
            while (_pos < source.Length && char.IsAsciiDigit(source[_pos])) _pos++;
        }
        if (Peek(0) is 'e' or 'E')
        {
            var save = _pos;
            _pos++;
            if (Peek(0) is '+' or '-') _pos++;
            if (char.IsAsciiDigit(Peek(0)))
            {
                isDouble = true;
                while (_pos < source.Length && char.IsAsciiDigit(source[_pos])) _pos++;
            }
            else _pos = save;
        }
        var text = source[start.._pos];
        if (isDouble)
        {
            var d = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            return new Token(TokenKind.Double, text, start + 1, d);
        }
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            throw new CelSyntaxException($"integer literal '{text}' is out of range", start + 1);
        return IntegerToken(start, v);
    }

    // Int tokens keep their magnitude as ulong: the parser folds a leading '-' so that
    // -9223372036854775808 is representable, then range-checks.
    private Token IntegerToken(int start, ulong magnitude)
    {
        if (Peek(0) is 'u' or 'U')
        {
            _pos++;
            return new Token(TokenKind.Uint, source[start.._pos], start + 1, magnitude);
        }
        return new Token(TokenKind.Int, source[start.._pos], start + 1, magnitude);
    }

    private Token Text(int start, bool raw, bool bytes)
    {
        var quote = source[_pos];
        var triple = Peek(1) == quote && Peek(2) == quote;
        _pos += triple ? 3 : 1;
        var sb = new StringBuilder();
        var raws = new List<byte>();
        void AppendRune(int cp)
        {
            if (bytes) raws.AddRange(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(cp)));
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        void AppendOctet(int b)
        {
            if (bytes) raws.Add((byte)b);
            else sb.Append((char)b);
        }
        while (true)
        {
            if (_pos >= source.Length) throw new CelSyntaxException("string literal is not closed", start + 1);
            var c = source[_pos];
            if (c == quote && (!triple || (Peek(1) == quote && Peek(2) == quote)))
            {
                _pos += triple ? 3 : 1;
                break;
            }
            if (!triple && c is '\n' or '\r') throw new CelSyntaxException("newline in string literal; use a triple-quoted string", _pos + 1);
            if (c == '\\' && !raw)
            {
                ReadEscape(AppendRune, AppendOctet, bytes);
                continue;
            }
            var rune = Rune.GetRuneAt(source, _pos);
            AppendRune(rune.Value);
            _pos += rune.Utf16SequenceLength;
        }
        var token = source[start.._pos];
        return bytes
            ? new Token(TokenKind.Bytes, token, start + 1, new CelBytes(raws.ToArray()))
            : new Token(TokenKind.String, token, start + 1, sb.ToString());
    }

    private void ReadEscape(Action<int> rune, Action<int> octet, bool bytes)
    {
        var at = _pos + 1;
        _pos++;
        var c = Peek(0);
        _pos++;
        switch (c)
        {
            case 'a': rune(7); return;
            case 'b': rune(8); return;
            case 'f': rune(12); return;
            case 'n': rune(10); return;
            case 'r': rune(13); return;
            case 't': rune(9); return;
            case 'v': rune(11); return;
            case '\\' or '\'' or '"' or '`' or '?': rune(c); return;
            case 'x' or 'X':
                {
                    var v = Hex(2, at);
                    // In bytes \x is a raw octet; in strings it is a code point.
                    if (bytes) octet(v); else rune(v);
                    return;
                }
            case 'u': rune(CodePoint(Hex(4, at), at)); return;
            case 'U': rune(CodePoint(Hex(8, at), at)); return;
            case >= '0' and <= '3':
                {
                    var digits = source.Substring(_pos - 1, Math.Min(3, source.Length - _pos + 1));
                    if (digits.Length != 3 || digits.Any(d => d is < '0' or > '7'))
                        throw new CelSyntaxException("octal escape needs three digits (\\000 to \\377)", at);
                    _pos += 2;
                    var v = Convert.ToInt32(digits, 8);
                    if (bytes) octet(v); else rune(v);
                    return;
                }
            default: throw new CelSyntaxException($"unknown escape sequence '\\{c}'", at);
        }
    }

    private int Hex(int count, int at)
    {
        if (_pos + count > source.Length || !int.TryParse(source.AsSpan(_pos, count), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
            || source.AsSpan(_pos, count).ContainsAnyExcept("0123456789abcdefABCDEF"))
            throw new CelSyntaxException($"escape needs {count} hex digits", at);
        _pos += count;
        return v;
    }

    private static int CodePoint(int v, int at) =>
        v is < 0 or > 0x10FFFF or (>= 0xD800 and <= 0xDFFF) ? throw new CelSyntaxException("escape is not a valid Unicode code point", at) : v;
}
