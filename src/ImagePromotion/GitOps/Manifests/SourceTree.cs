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
    public List<(SourceNode Key, SourceNode Value)> Entries { get; } = new();

    public SourceNode? Get(string key)
    {
        foreach (var (k, v) in Entries)
            if (k is SourceScalar s && s.Value == key) return v;
        return null;
    }

    public string? GetString(string key) => Get(key)?.Deref() is SourceScalar s ? s.Value : null;
}

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
