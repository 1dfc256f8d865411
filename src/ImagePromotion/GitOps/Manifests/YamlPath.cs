using System.Text;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>One step of a <see cref="YamlPath"/>.</summary>
public abstract record YamlPathSegment;
/// <summary>A mapping key, e.g. <c>.image</c> or <c>."app.kubernetes.io/name"</c>.</summary>
/// <param name="Key">The key as written, without quotes.</param>
public sealed record KeySegment(string Key) : YamlPathSegment;
/// <summary>A zero-based sequence index, e.g. <c>[0]</c>.</summary>
/// <param name="Index">The position in the sequence, from 0.</param>
public sealed record IndexSegment(int Index) : YamlPathSegment;
/// <summary>The one sequence item whose <c>Key</c> holds <c>Value</c>, e.g. <c>[name=web]</c>.</summary>
public sealed record SelectSegment(string Key, string Value) : YamlPathSegment;

/// <summary>
/// A yq-style path: <c>.spec.template.spec.containers[0].image</c>, <c>.containers[name=web].image</c>,
/// <c>.metadata.labels."app.kubernetes.io/name"</c>. The leading dot is optional (<c>image.tag</c>).
/// </summary>
public sealed record YamlPath(IReadOnlyList<YamlPathSegment> Segments)
{
    /// <summary>Parses a yq-style path expression.</summary>
    /// <exception cref="PromotionException">The expression is empty, has an unclosed bracket, an empty key, or a bracket that is neither index, quoted key nor <c>key=value</c>.</exception>
    public static YamlPath Parse(string expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
            throw Invalid(expression ?? "", "it is empty");
        var segments = new List<YamlPathSegment>();
        var i = 0;
        var s = expression.Trim();
        var expectKey = !s.StartsWith('.') && !s.StartsWith('[');
        while (i < s.Length)
        {
            if (expectKey || s[i] == '.')
            {
                if (!expectKey) i++;
                expectKey = false;
                if (i < s.Length && s[i] is '"' or '\'')
                    segments.Add(new KeySegment(ReadQuoted(s, ref i, expression)));
                else
                {
                    var start = i;
                    while (i < s.Length && s[i] is not ('.' or '[')) i++;
                    if (i == start) throw Invalid(expression, $"an empty key at character {start + 1}");
                    segments.Add(new KeySegment(s[start..i]));
                }
            }
            else if (s[i] == '[')
            {
                var close = s.IndexOf(']', i);
                if (close < 0) throw Invalid(expression, "a '[' is not closed");
                var inner = s[(i + 1)..close].Trim();
                i = close + 1;
                if (int.TryParse(inner, System.Globalization.NumberStyles.None, null, out var index))
                    segments.Add(new IndexSegment(index));
                else if (inner.Length > 1 && inner[0] is '"' or '\'' && inner[^1] == inner[0])
                    segments.Add(new KeySegment(inner[1..^1]));
                else if (inner.IndexOf('=') is var eq and > 0)
                {
                    var key = inner[..eq].Trim().TrimStart('.');
                    var value = inner[(eq + 1)..].TrimStart('=').Trim();
                    if (value.Length > 1 && value[0] is '"' or '\'' && value[^1] == value[0]) value = value[1..^1];
                    if (key.Length == 0 || value.Length == 0) throw Invalid(expression, $"'[{inner}]' needs key=value");
                    segments.Add(new SelectSegment(key, value));
                }
                else throw Invalid(expression, $"'[{inner}]' is neither an index, a quoted key nor key=value");
            }
            else throw Invalid(expression, $"unexpected '{s[i]}' at character {i + 1}");
        }
        if (segments.Count == 0) throw Invalid(expression, "it names no key");
        return new YamlPath(segments);
    }

    /// <summary>The path with <paramref name="more"/> steps after this one.</summary>
    public YamlPath Append(params YamlPathSegment[] more) => new(Segments.Concat(more).ToArray());
    /// <summary>The path with <paramref name="more"/>'s steps after this one.</summary>
    public YamlPath Append(YamlPath more) => new(Segments.Concat(more.Segments).ToArray());

    /// <summary>The path in yq syntax, quoting keys that need it (the inverse of <see cref="Parse"/>).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var segment in Segments)
        {
            switch (segment)
            {
                case KeySegment k when k.Key.Length > 0 && k.Key.All(c => char.IsLetterOrDigit(c) || c is '_' or '-'):
                    sb.Append('.').Append(k.Key); break;
                case KeySegment k: sb.Append(".\"").Append(k.Key).Append('"'); break;
                case IndexSegment x: sb.Append('[').Append(x.Index).Append(']'); break;
                case SelectSegment q: sb.Append('[').Append(q.Key).Append('=').Append(q.Value).Append(']'); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Walks the path through aliases and merge keys; returns the node found (not dereferenced, so callers can
    /// tell an alias from a value) or null with the number of segments that did resolve.
    /// </summary>
    internal SourceNode? Resolve(SourceNode? root, out int resolved, out string? problem) =>
        Locate(root, out resolved, out problem)?.Node;

    /// <summary>
    /// Like <see cref="Resolve"/>, and says how the node was reached: the path with selectors turned into
    /// indexes, the aliases followed, and, when the last key was inherited through a merge key, the mapping
    /// that inherited it (where an own key would override it).
    /// </summary>
    internal LocatedNode? Locate(SourceNode? root, out int resolved, out string? problem)
    {
        problem = null;
        resolved = 0;
        var node = root;
        var concrete = new List<YamlPathSegment>();
        var through = new List<SourceAlias>();
        SourceMapping? inheritedInto = null;
        foreach (var segment in Segments)
        {
            if (node is SourceAlias alias) through.Add(alias);
            var current = node?.Deref();
            inheritedInto = null;
            switch (segment, current)
            {
                case (KeySegment k, SourceMapping m):
                    var hit = m.Lookup(k.Key);
                    node = hit?.Value;
                    if (hit is not null)
                    {
                        through.AddRange(hit.Through);
                        if (!ReferenceEquals(hit.Owner, m)) inheritedInto = m;
                    }
                    concrete.Add(k);
                    break;
                case (IndexSegment x, SourceSequence q):
                    node = x.Index < q.Items.Count ? q.Items[x.Index] : null;
                    concrete.Add(x);
                    break;
                case (SelectSegment s, SourceSequence q):
                    var index = Select(q, s, out problem);
                    node = index < 0 ? null : q.Items[index];
                    concrete.Add(new IndexSegment(index));
                    break;
                default:
                    node = null;
                    break;
            }
            if (node is null) return null;
            resolved++;
        }
        return node is null ? null : new LocatedNode(node, new YamlPath(concrete), through, inheritedInto);
    }

    private static int Select(SourceSequence sequence, SelectSegment select, out string? problem)
    {
        problem = null;
        var found = Enumerable.Range(0, sequence.Items.Count)
            .Where(i => sequence.Items[i].Deref() is SourceMapping m && m.GetString(select.Key) == select.Value).ToList();
        if (found.Count > 1) problem = $"{found.Count} items have {select.Key}={select.Value}";
        return found.Count == 1 ? found[0] : -1;
    }

    private static string ReadQuoted(string s, ref int i, string expression)
    {
        var quote = s[i];
        var close = s.IndexOf(quote, i + 1);
        if (close < 0) throw Invalid(expression, "a quoted key is not closed");
        var key = s[(i + 1)..close];
        i = close + 1;
        return key;
    }

    private static PromotionException Invalid(string expression, string why) =>
        new($"invalid YAML path '{expression}': {why}; write it like .spec.template.spec.containers[0].image or .spec.template.spec.containers[name=web].image");
}

/// <summary>
/// A node found by a <see cref="YamlPath"/>: <see cref="Path"/> has indexes instead of selectors,
/// <see cref="Through"/> lists the aliases followed on the way, and <see cref="InheritedInto"/> is the
/// mapping that inherited the last key through a merge key (null when the key is the mapping's own).
/// </summary>
internal sealed record LocatedNode(SourceNode Node, YamlPath Path, IReadOnlyList<SourceAlias> Through, SourceMapping? InheritedInto);
