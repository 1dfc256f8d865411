namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// One value the update looked at: where (document, workload, path), its line, the value before
/// (null when the key was added) and the value wanted. <see cref="Changed"/> is false when it already held it.
/// </summary>
public sealed record ImageChange(string Location, int Line, string? OldValue, string NewValue)
{
    /// <summary>True when the place held something other than the wanted value (or nothing).</summary>
    public bool Changed => OldValue != NewValue;
}

/// <summary>
/// The new text of a manifest, what changed in it, and <see cref="Pinned"/>: the image each matched place
/// held before the edit, as a consumer renders it (Helm's registry/repository:tag@digest put together, a
/// Kustomize entry's newName:newTag@digest).
/// </summary>
public sealed record ManifestEdit(string Text, IReadOnlyList<ImageChange> Changes)
{
    /// <summary>True when any place changed: the file must be rewritten.</summary>
    public bool Changed => Changes.Any(c => c.Changed);
    /// <summary>The image each matched place held before the edit, as a consumer renders it, in document order.</summary>
    public IReadOnlyList<string> Pinned { get; init; } = [];
}

/// <summary>
/// A change before it is applied. <see cref="Path"/> is concrete (indexes, no selectors) so the result can
/// be re-read and checked; <see cref="Target"/> is how the value was reached (null for a key being added),
/// from which <see cref="SharedValues"/> decides the text edit.
/// </summary>
internal sealed record PlannedChange(int Document, YamlPath Path, string Location, int Line, string? OldValue, string NewValue, LocatedNode? Target)
{
    public ImageChange ToPublic() => new(Location, Line, OldValue, NewValue);
}

/// <summary>What every planner needs: the text, its parsed documents and the image being written.</summary>
internal sealed record EditContext(string Text, string File, IReadOnlyList<SourceDocument> Documents, ImageText Image)
{
    public string Newline { get; } = TextEdit.NewlineOf(Text);

    public string Where(int line, string location) => $"{File}:{line}: {location}";

    /// <summary>Plans writing <paramref name="value"/> into the scalar found at <paramref name="target"/>.</summary>
    public PlannedChange SetScalar(int document, LocatedNode target, string location, string value)
    {
        var node = target.Node;
        var where = Where(node.Line, location);
        if (node.Deref() is not SourceScalar scalar)
            throw new PromotionException($"{where} is a {(node.Deref() is SourceMapping ? "mapping" : "sequence")}, not a scalar; point the target at the value itself");
        return new PlannedChange(document, target.Path, location, node.Line, scalar.Value, value, target);
    }

    /// <summary>Finds <paramref name="path"/> in document <paramref name="document"/>, or null.</summary>
    public LocatedNode? Locate(int document, YamlPath path) => path.Locate(Documents[document].Root, out _, out _);

    /// <summary>"document 2 " in multi-document files, so locations stay unambiguous.</summary>
    public string DocumentPrefix(int document) => Documents.Count > 1 ? $"document {document + 1} " : "";
}
