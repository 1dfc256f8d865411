using YamlDotNet.RepresentationModel;

namespace ImagePromotion.Configuration;

/// <summary>
/// Typed, strict reading of one YAML mapping: every key must be read by the loader or it is reported as
/// unknown, and every error names the file, the line and the dotted key, or the override that set the value.
/// </summary>
internal sealed class YamlReader(ConfigProblems problems, string path, YamlMappingNode node)
{
    private readonly string file = problems.File;

    /// <summary>The problems of this load: unknown keys are recorded there, all of them, rather than thrown one at a time.</summary>
    public ConfigProblems Problems => problems;

    /// <summary>Where the value of <paramref name="key"/> came from (<c>file:line</c> or the override), for messages of the loader.</summary>
    public string Where(string key) => problems.Where(Find(key) ?? (YamlNode)node);

    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public int Line => (int)node.Start.Line;

    public bool Has(string key) => Find(key) is not null;

    /// <summary>True when <paramref name="key"/> holds a mapping (a setting that takes either a value or a mapping).</summary>
    public bool IsMapping(string key) => Find(key) is YamlMappingNode;

    /// <summary>True when this mapping has no keys at all (<c>{}</c>).</summary>
    public bool IsEmpty => node.Children.Count == 0;

    /// <summary>
    /// True when the key is written but holds nothing: no value, an empty string, <c>{}</c> or <c>[]</c>. Sections where
    /// "nothing" would silently switch a safeguard off (gates, trust) refuse it instead of reading it as absent.
    /// </summary>
    public bool IsBlank(string key)
    {
        _read.Add(key);
        foreach (var (k, v) in node.Children)
            if (k is YamlScalarNode { Value: { } name } && name == key)
                return v switch
                {
                    YamlScalarNode { Value: null or "" } => true,
                    YamlMappingNode m => m.Children.Count == 0,
                    YamlSequenceNode q => q.Children.Count == 0,
                    _ => false,
                };
        return false;
    }

    public string? String(string key, string? fallback = null)
    {
        var n = Find(key);
        if (n is null) return fallback;
        if (n is not YamlScalarNode s) throw Error(n, key, "must be a text value");
        return s.Value;
    }

    public string RequiredString(string key)
    {
        var v = String(key);
        if (string.IsNullOrWhiteSpace(v)) throw Missing(key);
        return v;
    }

    public bool Bool(string key, bool fallback)
    {
        var n = Find(key);
        if (n is null) return fallback;
        if (n is YamlScalarNode { Value: { } v })
        {
            if (v is "true" or "True" or "TRUE") return true;
            if (v is "false" or "False" or "FALSE") return false;
        }
        throw Error(n, key, "must be true or false");
    }

    public IReadOnlyList<string> StringList(string key)
    {
        var n = Find(key);
        if (n is null) return Array.Empty<string>();
        if (n is YamlScalarNode single && !string.IsNullOrEmpty(single.Value)) return new[] { single.Value };
        if (n is not YamlSequenceNode seq) throw Error(n, key, "must be a list of text values");
        return seq.Children.Select(c => c is YamlScalarNode { Value: { } v } ? v : throw Error(c, key, "must be a list of text values")).ToArray();
    }

    public int Int(string key, int fallback)
    {
        var n = Find(key);
        if (n is null) return fallback;
        if (n is YamlScalarNode { Value: { } v } && int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var i)) return i;
        throw Error(n, key, "must be a whole number");
    }

    /// <summary>A list whose items are mappings (allowlist entries, freeze windows); scalar items come back as null readers with their text.</summary>
    public IEnumerable<(YamlReader? Reader, string? Scalar, int Line)> Items(string key)
    {
        var n = Find(key);
        if (n is null) yield break;
        if (n is not YamlSequenceNode seq) throw Error(n, key, "must be a list");
        var i = 0;
        foreach (var item in seq.Children)
        {
            var at = $"{key}[{i++}]";
            if (item is YamlMappingNode m) yield return (new YamlReader(problems, Join(at), m), null, (int)item.Start.Line);
            else if (item is YamlScalarNode { Value: { } v }) yield return (null, v, (int)item.Start.Line);
            else throw Error(item, at, "must be a value or a mapping");
        }
    }

    /// <summary>A mapping of user-chosen keys to text values (e.g. scan rule overrides).</summary>
    public IReadOnlyDictionary<string, string?> StringMap(string key)
    {
        var n = Find(key);
        if (n is null) return new Dictionary<string, string?>();
        if (n is not YamlMappingNode m) throw Error(n, key, "must be a mapping of names to values");
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (k, v) in m.Children)
        {
            var name = ((YamlScalarNode)k).Value ?? "";
            map[name] = v is YamlScalarNode s ? s.Value : throw Error(v, $"{key}.{name}", "must be a text value");
        }
        return map;
    }

    public string FileName => file;

    /// <summary>The dotted path of this mapping, for messages.</summary>
    public string Here => path;

    public string PathOf(string key) => Join(key);

    public YamlReader? Mapping(string key)
    {
        var n = Find(key);
        if (n is null) return null;
        if (n is not YamlMappingNode m) throw Error(n, key, "must be a mapping of keys to values");
        return new YamlReader(problems, Join(key), m);
    }

    public YamlReader RequiredMapping(string key) => Mapping(key) ?? throw Missing(key);

    /// <summary>The entries of a mapping whose keys are names chosen by the user (registries, environments).</summary>
    public IEnumerable<(string Name, YamlReader Reader)> NamedMappings(string key)
    {
        var n = Find(key);
        if (n is null) yield break;
        if (n is not YamlMappingNode m) throw Error(n, key, "must be a mapping of names to settings");
        foreach (var (k, v) in m.Children)
        {
            var name = KeyText(k, key);
            if (v is not YamlMappingNode child) throw Error(v, $"{key}.{name}", "must be a mapping of keys to values");
            yield return (name, new YamlReader(problems, $"{Join(key)}.{name}", child));
        }
    }

    /// <summary>Records every key nobody asked for: a typo must not silently fall back to a default.</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (var (k, _) in node.Children)
        {
            var name = KeyText(k, "");
            if (_read.Contains(name) || known.Contains(name)) continue;
            var expected = _read.Concat(known).Distinct().Order().ToArray();
            var guess = ImagePromotion.CommandLine.Suggestions.DidYouMean(name, expected);
            problems.Add(problems.OverrideOf(k) is { } origin
                ? $"{origin}: unknown key '{Join(name)}'{guess}{(guess.Length > 0 ? " E" : ": e")}xpected one of {string.Join(", ", expected)}"
                : $"{file}:{k.Start.Line}: unknown key '{Join(name)}'{guess}{(guess.Length > 0 ? " E" : ": e")}xpected one of {string.Join(", ", expected)}");
        }
    }

    // YAML allows a sequence or mapping as a key ("? [a, b]"); no setting is named that way.
    private string KeyText(YamlNode k, string under) => k is YamlScalarNode { Value: var v }
        ? v ?? ""
        : throw new PromotionException($"{file}:{k.Start.Line}: {(under.Length == 0 && path.Length == 0 ? "a key" : $"a key under '{Join(under)}'")} is a {(k is YamlSequenceNode ? "list" : "mapping")}, not a name: write keys as plain text");

    /// <summary>
    /// A required key is absent. Under a mapping an override created, the override's spelling is the likely
    /// cause (<c>--set environments.productoin.tag=x</c> makes a new environment), so the message says so.
    /// </summary>
    public PromotionException Missing(string key) => problems.OverrideOf(node) is { } origin
        ? new($"{origin} adds '{path}', which {file} does not have (so '{Join(key)}' is missing): check the spelling of the override")
        : new($"{file}:{node.Start.Line}: missing value for '{Join(key)}': add it to the file or pass --set {Join(key)}=VALUE");

    public PromotionException Error(YamlNode at, string key, string what) =>
        new($"{problems.Where(at)}: '{Join(key)}' {what}");

    private YamlNode? Find(string key)
    {
        _read.Add(key);
        foreach (var (k, v) in node.Children)
            if (k is YamlScalarNode { Value: { } name } && name == key)
                return v is YamlScalarNode { Value: null or "" } && v.Tag.IsEmpty ? null : v;
        return null;
    }

    private string Join(string key) => path.Length == 0 ? key : path + "." + key;
}
