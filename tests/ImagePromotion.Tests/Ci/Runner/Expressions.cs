using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>
/// GitHub Actions expressions (<c>${{ … }}</c>), the part the shipped workflows use: literals, context property
/// access (case-insensitive, as GitHub's), <c>== != ! &amp;&amp; ||</c> with GitHub's loose equality and truthiness,
/// and the functions <c>fromJson</c>, <c>hashFiles</c>, <c>success</c>, <c>failure</c>, <c>always</c>, <c>cancelled</c>. Anything
/// else (another function, an unknown context such as <c>vars</c> or <c>matrix</c>) throws, so a workflow that
/// starts using it fails this runner loudly instead of running with a wrong value.
/// Source of the rules: docs.github.com, "Evaluate expressions in workflows and actions".
/// </summary>
internal static class Expressions
{
    /// <summary>What an expression sees: the contexts by name, and the job's status for the status functions.</summary>
    public sealed record Scope(JsonObject Contexts, bool JobFailed = false);

    public static object? Evaluate(string expression, Scope scope) => new Parser(expression, scope).ParseAll();

    /// <summary>An <c>if:</c> condition: bare or wrapped in <c>${{ }}</c>; without a status function it is <c>success() &amp;&amp; (…)</c>.</summary>
    public static bool Condition(string? condition, Scope scope)
    {
        if (string.IsNullOrWhiteSpace(condition)) return !scope.JobFailed;
        var text = condition.Trim();
        if (text.StartsWith("${{", StringComparison.Ordinal) && text.EndsWith("}}", StringComparison.Ordinal)) text = text[3..^2];
        var statusFunction = System.Text.RegularExpressions.Regex.IsMatch(text, @"\b(success|failure|always|cancelled)\s*\(");
        var value = Truthy(Evaluate(text, scope));
        return statusFunction ? value : value && !scope.JobFailed;
    }

    /// <summary>A string with <c>${{ }}</c> parts, as GitHub renders it into env, with, outputs and names.</summary>
    public static string Interpolate(string text, Scope scope)
    {
        var result = new StringBuilder();
        var at = 0;
        while (true)
        {
            var start = text.IndexOf("${{", at, StringComparison.Ordinal);
            if (start < 0) { result.Append(text, at, text.Length - at); return result.ToString(); }
            var end = text.IndexOf("}}", start + 3, StringComparison.Ordinal);
            if (end < 0) throw new RunnerException($"unclosed '${{{{' in: {text}");
            result.Append(text, at, start - at).Append(Render(Evaluate(text[(start + 3)..end], scope)));
            at = end + 2;
        }
    }

    public static string Render(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        double d => d.ToString(CultureInfo.InvariantCulture),
        string s => s,
        JsonNode n => n.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }),
        _ => throw new RunnerException($"cannot render {value.GetType().Name}"),
    };

    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        double d => d != 0 && !double.IsNaN(d),
        string s => s.Length > 0,
        _ => true,
    };

    /// <summary>GitHub's loose equality: strings ignore case; other mixed types are compared as numbers.</summary>
    private static bool LooseEquals(object? a, object? b)
    {
        if (a is null && b is null) return true;
        if (a is string sa && b is string sb) return string.Equals(sa, sb, StringComparison.OrdinalIgnoreCase);
        if (a is JsonNode || b is JsonNode) return ReferenceEquals(a, b);
        if (a?.GetType() == b?.GetType()) return Equals(a, b);
        return Number(a) == Number(b);
    }

    private static double Number(object? value) => value switch
    {
        null => 0,
        bool b => b ? 1 : 0,
        double d => d,
        string s when s.Trim().Length == 0 => 0,
        string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN,
        _ => double.NaN,
    };

    /// <summary>A JSON node as an expression value: strings, numbers and booleans unwrapped, objects and arrays kept.</summary>
    public static object? FromNode(JsonNode? node)
    {
        // Statements, not a switch expression: JsonNode's implicit conversions from string, bool and double would make
        // JsonNode the switch's type and wrap every unwrapped value again.
        if (node is not JsonValue value) return node;
        switch (value.GetValueKind())
        {
            case System.Text.Json.JsonValueKind.String: return System.Text.Json.JsonSerializer.Deserialize<string>(value.ToJsonString());
            case System.Text.Json.JsonValueKind.True: return true;
            case System.Text.Json.JsonValueKind.False: return false;
            case System.Text.Json.JsonValueKind.Number: return double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
            default: return null;
        }
    }

    private sealed class Parser(string text, Scope scope)
    {
        private int _at;

        public object? ParseAll()
        {
            var value = Or();
            Skip();
            if (_at < text.Length) throw Error($"unexpected '{text[_at..]}'");
            return value;
        }

        private object? Or()
        {
            var left = And();
            while (Take("||")) { var right = And(); left = Truthy(left) ? left : right; }
            return left;
        }

        private object? And()
        {
            var left = Equality();
            while (Take("&&")) { var right = Equality(); left = Truthy(left) ? right : left; }
            return left;
        }

        private object? Equality()
        {
            var left = Unary();
            while (true)
            {
                if (Take("==")) left = LooseEquals(left, Unary());
                else if (Take("!=")) left = !LooseEquals(left, Unary());
                else return left;
            }
        }

        private object? Unary() => Take("!") ? !Truthy(Unary()) : Postfix();

        private object? Postfix()
        {
            var (value, name) = Primary();
            while (true)
            {
                if (Take("."))
                {
                    var property = Identifier() ?? throw Error("expected a property name after '.'");
                    value = Member(value, property);
                    name += "." + property;
                }
                else if (Take("["))
                {
                    var key = Or();
                    Expect("]");
                    value = key is double index && value is JsonArray array ? FromNode(index >= 0 && index < array.Count ? array[(int)index] : null)
                        : Member(value, Render(key));
                    name += "[…]";
                }
                else return value;
            }
        }

        private (object? Value, string Name) Primary()
        {
            Skip();
            if (Take("(")) { var inner = Or(); Expect(")"); return (inner, "(…)"); }
            if (_at < text.Length && text[_at] == '\'')
            {
                var sb = new StringBuilder();
                for (_at++; ; _at++)
                {
                    if (_at >= text.Length) throw Error("unclosed string literal");
                    if (text[_at] == '\'' && _at + 1 < text.Length && text[_at + 1] == '\'') { sb.Append('\''); _at++; continue; }
                    if (text[_at] == '\'') { _at++; return (sb.ToString(), "'…'"); }
                    sb.Append(text[_at]);
                }
            }
            if (_at < text.Length && (char.IsDigit(text[_at]) || text[_at] == '-'))
            {
                var start = _at++;
                while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] == '.')) _at++;
                return (Number(text[start.._at]), text[start.._at]);
            }
            var identifier = Identifier() ?? throw Error("expected a value");
            switch (identifier)
            {
                case "true": return (true, identifier);
                case "false": return (false, identifier);
                case "null": return (null, identifier);
            }
            Skip();
            if (Take("(")) return (Call(identifier), identifier + "()");
            var context = scope.Contexts.FirstOrDefault(c => string.Equals(c.Key, identifier, StringComparison.OrdinalIgnoreCase));
            if (context.Key is null) throw Error($"context '{identifier}' is not provided by this runner");
            return (FromNode(context.Value), identifier);
        }

        private object? Call(string function)
        {
            var arguments = new List<object?>();
            Skip();
            if (!Take(")"))
            {
                do arguments.Add(Or()); while (Take(","));
                Expect(")");
            }
            switch (function.ToLowerInvariant())
            {
                case "success" when arguments.Count == 0: return !scope.JobFailed;
                case "failure" when arguments.Count == 0: return scope.JobFailed;
                case "always" when arguments.Count == 0: return true;
                case "cancelled" when arguments.Count == 0: return false;
                case "fromjson" when arguments.Count == 1:
                    var json = Render(arguments[0]);
                    try { return FromNode(JsonNode.Parse(json)); }
                    catch (System.Text.Json.JsonException e) { throw Error($"fromJson: not JSON ({e.Message})"); }
                case "hashfiles" when arguments.Count >= 1: return HashFiles(arguments.Select(Render).ToArray());
                default: throw Error($"function {function}/{arguments.Count} is not implemented by this runner");
            }
        }

        /// <summary>
        /// hashFiles(patterns…): the files under GITHUB_WORKSPACE the glob patterns match ('!' excludes), each hashed with
        /// SHA-256, and one SHA-256 over those hashes; "" when nothing matches (GitHub's rule, docs "hashFiles").
        /// </summary>
        private string HashFiles(string[] patterns)
        {
            var workspace = Render(Member(FromNode(scope.Contexts["github"]), "workspace"));
            if (workspace.Length == 0 || !Directory.Exists(workspace)) throw Error("hashFiles: no github.workspace");
            var matcher = new Microsoft.Extensions.FileSystemGlobbing.Matcher(StringComparison.Ordinal);
            foreach (var pattern in patterns)
                if (pattern.StartsWith('!')) matcher.AddExclude(pattern[1..]); else matcher.AddInclude(pattern);
            var files = matcher.Execute(new Microsoft.Extensions.FileSystemGlobbing.Abstractions.DirectoryInfoWrapper(new DirectoryInfo(workspace)))
                .Files.Select(f => Path.Combine(workspace, f.Path)).Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0) return "";
            using var all = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            foreach (var file in files) all.AppendData(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
            return Convert.ToHexStringLower(all.GetHashAndReset());
        }

        // A property of anything but an object is null, as on GitHub.
        private static object? Member(object? value, string property) =>
            value is JsonObject obj ? FromNode(obj.FirstOrDefault(p => string.Equals(p.Key, property, StringComparison.OrdinalIgnoreCase)).Value) : null;

        private string? Identifier()
        {
            Skip();
            var start = _at;
            while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] is '_' or '-')) _at++;
            return _at > start ? text[start.._at] : null;
        }

        private bool Take(string token)
        {
            Skip();
            if (string.CompareOrdinal(text, _at, token, 0, token.Length) != 0) return false;
            // '!' must not swallow the start of '!='.
            if (token == "!" && _at + 1 < text.Length && text[_at + 1] == '=') return false;
            _at += token.Length;
            return true;
        }

        private void Expect(string token)
        {
            if (!Take(token)) throw Error($"expected '{token}'");
        }

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }

        private RunnerException Error(string message) => new($"expression '{text.Trim()}': {message}");
    }
}

/// <summary>The runner met something it does not implement, or a pipeline broke a rule of the system it imitates.</summary>
internal sealed class RunnerException(string message) : Exception(message);
