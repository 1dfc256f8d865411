namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Edits manifest text in place: parses it with YamlDotNet's event parser, plans the new scalar values,
/// splices them into the original characters and re-reads the result to prove each value landed where
/// intended and that nothing else changed meaning (<see cref="MeaningCompare"/>). Everything outside the
/// changed scalars (comments, quoting, flow style, anchors, line endings, a byte order mark, other
/// documents) is left exactly as it was. Values are found as YAML loaders read them: through aliases and
/// merge keys; a key written twice where the edit looks is refused; a value shared through an anchor is
/// never moved for another container (<see cref="SharedValues"/>).
/// </summary>
public static class ManifestEditor
{
    private const char ByteOrderMark = '\uFEFF';

    /// <summary>Sets the image at <paramref name="target"/> in one manifest's text and proves the result (see the class remarks).</summary>
    /// <param name="text">The file's content, a YAML stream of one or more documents.</param>
    /// <param name="file">The file's path, for messages.</param>
    /// <param name="target">Where the image lives: a path, container name, Helm values or Kustomize images entry.</param>
    /// <param name="newImage">The image to write, normally <c>name@sha256:…</c> (split into Helm or Kustomize fields as the target needs).</param>
    /// <param name="limits">Size, depth and alias limits; <see cref="ManifestLimits.Default"/> when null.</param>
    /// <returns>The new text (the same text when nothing changed) and each place looked at.</returns>
    /// <exception cref="PromotionException">The YAML is invalid or over a limit, the target matches nothing or is ambiguous, or the edit would change meaning elsewhere.</exception>
    public static ManifestEdit Edit(string text, string file, ManifestTarget target, string newImage, ManifestLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(target);
        limits ??= ManifestLimits.Default;
        var image = ParseImage(newImage, file);
        var bom = text.Length > 0 && text[0] == ByteOrderMark;
        var body = bom ? text[1..] : text;
        if (body.Length > limits.MaxFileBytes)
            throw new PromotionException($"{file}: {body.Length} characters is over the {limits.MaxFileBytes}-byte limit for a manifest; refusing it (raise ManifestLimits.MaxFileBytes if it is genuine)");

        var documents = SourceTreeReader.Read(body, file, limits);
        var context = new EditContext(body, file, documents, image);
        var plan = Plan(context, target);
        var changes = plan.Changes.Select(c => c.ToPublic()).ToList();
        var edits = SharedValues.Edits(context, plan.Changes).Concat(plan.Insertions).ToList();
        if (edits.Count == 0) return new ManifestEdit(text, changes) { Pinned = plan.Pinned };

        var edited = TextEdit.Apply(body, edits);
        Verify(edited, file, documents, plan.Changes, limits);
        return new ManifestEdit(bom ? ByteOrderMark + edited : edited, changes) { Pinned = plan.Pinned };
    }

    internal static ImageText ParseImage(string newImage, string file)
    {
        try { return ImageText.Parse(newImage); }
        catch (PromotionException ex) { throw new PromotionException($"{file}: cannot write {ex.Message}", ex); }
    }

    private static EditPlan Plan(EditContext context, ManifestTarget target) => target switch
    {
        ContainerImageTarget c => WorkloadImages.Plan(context, c),
        KustomizeImageTarget k => KustomizeImages.Plan(context, k),
        HelmValuesTarget h => HelmValues.Plan(context, h),
        YamlPathTarget p => PlanPath(context, p),
        _ => throw new ArgumentException($"unknown manifest target {target.GetType().Name}", nameof(target)),
    };

    private static EditPlan PlanPath(EditContext context, YamlPathTarget target)
    {
        var path = YamlPath.Parse(target.Path);
        var candidates = target.Document is { } only
            ? context.Documents.Where(d => d.Index == only).ToList()
            : context.Documents.ToList();
        if (target.Document is { } n && candidates.Count == 0)
            throw new PromotionException($"{context.File}: there is no document {n} (the file has {context.Documents.Count}, counted from 0); fix YamlPathTarget.Document");
        var found = new List<(SourceDocument Document, LocatedNode Node)>();
        string? problem = null;
        var best = 0;
        foreach (var document in candidates)
        {
            var node = path.Locate(document.Root, out var resolved, out var why);
            if (node is not null) found.Add((document, node));
            else if (resolved >= best) { best = resolved; problem = why ?? problem; }
        }
        if (found.Count == 0)
        {
            var prefix = best == 0 ? "none of it" : new YamlPath(path.Segments.Take(best).ToArray()).ToString();
            throw new PromotionException($"{context.File}: path {path} does not exist (found {prefix}{(problem is null ? "" : "; " + problem)}); fix the path");
        }
        if (found.Count > 1)
            throw new PromotionException($"{context.File}: path {path} exists in {found.Count} documents ({string.Join(", ", found.Select(f => f.Document.Index))}); ambiguous: set YamlPathTarget.Document");
        var (doc, located) = found[0];
        var change = context.SetScalar(doc.Index, located, context.DocumentPrefix(doc.Index) + path, context.Image.Text);
        return new EditPlan([change], [], [change.OldValue ?? ""]);
    }

    /// <summary>
    /// Re-reads the edited text: same documents, every planned path now holds its new value, and nothing
    /// outside the planned paths reads differently (a value shared through an anchor would show up here).
    /// </summary>
    private static void Verify(string edited, string file, IReadOnlyList<SourceDocument> before, List<PlannedChange> changes, ManifestLimits limits)
    {
        IReadOnlyList<SourceDocument> documents;
        try { documents = SourceTreeReader.Read(edited, file, limits); }
        catch (PromotionException ex) { throw Broken(file, ex.Message); }
        if (documents.Count != before.Count) throw Broken(file, $"{before.Count} documents became {documents.Count}");
        foreach (var change in changes)
        {
            var node = change.Path.Resolve(documents[change.Document].Root, out _, out _);
            if (node?.Deref() is not SourceScalar s || s.Value != change.NewValue)
                throw Broken(file, $"{change.Location} does not read back as '{change.NewValue}'");
        }
        for (var i = 0; i < documents.Count; i++)
        {
            var allowed = changes.Where(c => c.Document == i).Select(c => c.Path.ToString()).ToHashSet(StringComparer.Ordinal);
            if (MeaningCompare.Unexpected(before[i].Root, documents[i].Root, allowed) is { } difference)
                throw new PromotionException($"{file}: refusing the edit: it would also change {(documents.Count > 1 ? $"document {i + 1} " : "")}{difference}, which the target does not name (a value shared through an anchor or merge key?); the file was left unchanged");
        }
    }

    private static PromotionException Broken(string file, string why) =>
        new($"{file}: the edited manifest did not read back as intended ({why}); the file was left unchanged, please report it with the file");
}

/// <summary>
/// What a planner decided: the values to set (each with how it was reached), new text for keys that do not
/// exist yet, and the image(s) the matched places pinned before (<see cref="ManifestEdit.Pinned"/>).
/// </summary>
internal sealed record EditPlan(List<PlannedChange> Changes, List<TextEdit> Insertions, IReadOnlyList<string> Pinned);
