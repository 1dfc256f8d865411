using YamlDotNet.Core;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// A YAML node with the character offsets it occupies in the original text. Built from parser events and
/// never serialised back: edits are spliced into the original text at these offsets.
/// </summary>
internal abstract class SourceNode
{
    /// <summary>Offset of the node's first character, including an anchor or tag in front of it.</summary>
    public required int Start { get; init; }
    /// <summary>Offset just past the last character that belongs to the node.</summary>
    public int ContentEnd { get; set; }
    public required int Line { get; init; }
    public required int Column { get; init; }
    /// <summary>Inside a flow collection, where <c>, [ ] { }</c> end a plain scalar.</summary>
    public required bool InFlow { get; init; }
    public string? Anchor { get; init; }
    /// <summary>How many nodes this node stands for once aliases are expanded.</summary>
    public long Weight { get; set; } = 1;
    /// <summary>The collection this node sits in (null for a document root).</summary>
    public SourceNode? Parent { get; set; }
    /// <summary>The aliases that refer to this node, when it carries an anchor.</summary>
    public List<SourceAlias> Users { get; } = new();

    /// <summary>The node an alias refers to, or the node itself.</summary>
    public SourceNode Deref() => this is SourceAlias a ? a.Target : this;
}

internal sealed class SourceScalar : SourceNode
{
    public required string Value { get; init; }
    public required ScalarStyle Style { get; init; }
    /// <summary>Offset of the scalar text itself, after any anchor or tag.</summary>
    public required int ValueStart { get; init; }
}

internal sealed class SourceMapping : SourceNode
{
    public required bool Flow { get; init; }
    /// <summary>The file the mapping was read from, for messages about its keys.</summary>
    public required string File { get; init; }
    public List<(SourceNode Key, SourceNode Value)> Entries { get; } = new();

    /// <summary>The value of <paramref name="key"/> as a YAML loader reads it (own key, else merge keys).</summary>
    public SourceNode? Get(string key) => Lookup(key)?.Value;

    public string? GetString(string key) => Get(key)?.Deref() is SourceScalar s ? s.Value : null;

    /// <summary>
    /// Finds <paramref name="key"/> the way YAML 1.1 loaders (go-yaml, PyYAML) do: an own key wins; otherwise
    /// the mappings named by merge keys (<c>&lt;&lt;: *base</c> or <c>&lt;&lt;: [*a, *b]</c>, earlier first) are
    /// searched. A key written twice in one mapping is refused: YAML forbids it and loaders disagree on which
    /// one counts (kyaml, so kustomize and kubectl, refuse the file; PyYAML and go-yaml v2 take the last).
    /// </summary>
    public MappingLookup? Lookup(string key)
    {
        SourceNode? found = null;
        foreach (var (k, v) in Entries)
        {
            if (k is not SourceScalar s || s.Value != key || IsMergeKey(k)) continue;
            if (found is not null)
                throw new PromotionException($"{File}:{k.Line}: duplicate key '{key}' (first on line {found.Line}, again on line {k.Line}); YAML loaders disagree on which one counts (kustomize refuses the file, PyYAML takes the last): delete one of them");
            found = k;
        }
        if (found is not null) return new MappingLookup(Entries.First(e => ReferenceEquals(e.Key, found)).Value, this, []);
        foreach (var (k, v) in Entries)
        {
            if (!IsMergeKey(k)) continue;
            var sources = v.Deref() is SourceSequence q ? q.Items : [v];
            foreach (var source in sources)
            {
                if (source.Deref() is not SourceMapping merged || merged.Lookup(key) is not { } hit) continue;
                var through = new List<SourceAlias>();
                if (v is SourceAlias outer && !ReferenceEquals(outer, source)) through.Add(outer);
                if (source is SourceAlias inner) through.Add(inner);
                return hit with { Through = [.. through, .. hit.Through] };
            }
        }
        return null;
    }

    /// <summary>A plain <c>&lt;&lt;</c> key: YAML 1.1's merge key (a quoted one is an ordinary key).</summary>
    public static bool IsMergeKey(SourceNode key) => key is SourceScalar { Value: "<<", Style: ScalarStyle.Plain };
}

/// <summary>
/// Where a key's value was found: <see cref="Owner"/> is the mapping that holds the entry (another mapping
/// than the one asked when the value was inherited through a merge key), <see cref="Through"/> the aliases
/// followed to get there.
/// </summary>
internal sealed record MappingLookup(SourceNode Value, SourceMapping Owner, IReadOnlyList<SourceAlias> Through);

internal sealed class SourceSequence : SourceNode
{
    public required bool Flow { get; init; }
    public List<SourceNode> Items { get; } = new();
}

internal sealed class SourceAlias : SourceNode
{
    public required string Name { get; init; }
    public required SourceNode Target { get; init; }
}

/// <summary>One document of a (possibly multi-document) file; <see cref="Root"/> is null for an empty one.</summary>
internal sealed record SourceDocument(int Index, SourceNode? Root);
