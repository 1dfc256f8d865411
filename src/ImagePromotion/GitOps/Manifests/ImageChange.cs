namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// One value the update looked at: where (document, workload, path), its line, the value before
/// (null when the key was added) and the value wanted. <see cref="Changed"/> is false when it already held it.
/// </summary>
public sealed record ImageChange(string Location, int Line, string? OldValue, string NewValue)
{
    public bool Changed => OldValue != NewValue;
}

/// <summary>The new text of a manifest and what changed in it.</summary>
public sealed record ManifestEdit(string Text, IReadOnlyList<ImageChange> Changes)
{
    public bool Changed => Changes.Any(c => c.Changed);
}

/// <summary>A change before it is applied: the path lets the result be re-read and checked.</summary>
internal sealed record PlannedChange(int Document, YamlPath Path, string Location, int Line, string? OldValue, string NewValue, TextEdit? Edit)
{
    public ImageChange ToPublic() => new(Location, Line, OldValue, NewValue);
}

/// <summary>What every planner needs: the text, its parsed documents and the image being written.</summary>
internal sealed record EditContext(string Text, string File, IReadOnlyList<SourceDocument> Documents, ImageText Image)
{
    public string Newline { get; } = TextEdit.NewlineOf(Text);

    public string Where(int line, string location) => $"{File}:{line}: {location}";

    /// <summary>Plans writing <paramref name="value"/> into the scalar <paramref name="node"/>.</summary>
    public PlannedChange SetScalar(int document, YamlPath path, string location, SourceNode node, string value)
    {
        var where = Where(node.Line, location);
        if (node is SourceAlias alias)
            throw new PromotionException($"{where} is the alias *{alias.Name}; editing it would change every use of &{alias.Name}, so write the value there directly or target the anchor's path");
        if (node is not SourceScalar scalar)
            throw new PromotionException($"{where} is a {(node is SourceMapping ? "mapping" : "sequence")}, not a scalar; point the target at the value itself");
        var edit = scalar.Value == value ? null : ScalarText.Replace(Text, scalar, value, where);
        return new PlannedChange(document, path, location, node.Line, scalar.Value, value, edit);
    }

    /// <summary>"document 2 " in multi-document files, so locations stay unambiguous.</summary>
    public string DocumentPrefix(int document) => Documents.Count > 1 ? $"document {document + 1} " : "";
}
