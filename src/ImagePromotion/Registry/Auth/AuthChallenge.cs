using System.Text;

namespace ImagePromotion.Registry.Auth;

/// <summary>
/// One <c>WWW-Authenticate</c> challenge: a scheme and its parameters, e.g.
/// <c>Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"</c>.
/// </summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>The token endpoint URL (<c>realm</c> parameter), for Bearer.</summary>
    public string? Realm => Parameters.GetValueOrDefault("realm");
    /// <summary>The <c>service</c> parameter to send to the token endpoint.</summary>
    public string? Service => Parameters.GetValueOrDefault("service");
    /// <summary>The <c>scope</c> the registry asks for (<c>repository:app:pull</c>), when it says.</summary>
    public string? Scope => Parameters.GetValueOrDefault("scope");
    /// <summary>True for the Bearer scheme (the registry token flow).</summary>
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);
    /// <summary>True for the Basic scheme.</summary>
    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Parses a header value that may hold several challenges (RFC 7235: <c>Basic realm="x", Bearer realm="y"</c>).
    /// Quoted strings may contain commas and escaped quotes.
    /// </summary>
    public static IReadOnlyList<AuthChallenge> ParseAll(string header)
    {
        var result = new List<AuthChallenge>();
        var i = 0;
        string? scheme = null;
        Dictionary<string, string>? parameters = null;
        while (i < header.Length)
        {
            SkipSpaceAndCommas(header, ref i);
            if (i >= header.Length) break;
            var token = ReadToken(header, ref i);
            if (token.Length == 0) { i++; continue; }
            SkipSpace(header, ref i);
            if (i < header.Length && header[i] == '=')
            {
                // A parameter of the current challenge.
                i++;
                SkipSpace(header, ref i);
                var value = i < header.Length && header[i] == '"' ? ReadQuoted(header, ref i) : ReadToken(header, ref i);
                parameters ??= new(StringComparer.OrdinalIgnoreCase);
                parameters[token] = value;
            }
            else
            {
                // A new scheme starts.
                if (scheme is not null) result.Add(new AuthChallenge(scheme, parameters ?? new(StringComparer.OrdinalIgnoreCase)));
                scheme = token;
                parameters = new(StringComparer.OrdinalIgnoreCase);
            }
        }
        if (scheme is not null) result.Add(new AuthChallenge(scheme, parameters ?? new(StringComparer.OrdinalIgnoreCase)));
        return result;
    }

    private static void SkipSpace(string s, ref int i) { while (i < s.Length && s[i] is ' ' or '\t') i++; }

    private static void SkipSpaceAndCommas(string s, ref int i) { while (i < s.Length && s[i] is ' ' or '\t' or ',') i++; }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or '\t' or ',' or '=' or '"')) i++;
        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var sb = new StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length) i++;
            sb.Append(s[i]);
            i++;
        }
        i++; // closing quote
        return sb.ToString();
    }
}
