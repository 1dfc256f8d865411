namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Turns planned changes into text edits without moving a value that another part of the file reads through
/// an anchor (<c>&amp;a</c> … <c>*a</c>) or a merge key (<c>&lt;&lt;: *a</c>). A value is written in place only when
/// every use of it is a target wanting the same image. Otherwise only the target's own use changes:
/// an alias (<c>image: *a</c>) is replaced by the value itself (de-aliased), a key inherited through
/// <c>&lt;&lt;</c> gets an own key in the inheriting mapping (own keys override merged ones); when neither
/// applies (the target holds the anchor others read, or sits inside a shared mapping) the edit is refused,
/// naming the other uses: changing a line that belongs to another container is never done silently.
/// </summary>
internal static class SharedValues
{
    /// <summary>Stands for the value's own place (as opposed to one of its aliases) among its uses.</summary>
    private static readonly object OwnPlace = new();

    public static List<TextEdit> Edits(EditContext context, IReadOnlyList<PlannedChange> changes)
    {
        var edits = new List<TextEdit>();
        foreach (var group in changes.Where(c => c.Target is not null).GroupBy(c => c.Target!.Node.Deref(), ReferenceEqualityComparer.Instance))
        {
            var node = (SourceScalar)group.Key!;
            var targets = group.ToList();
            var values = targets.Select(c => c.NewValue).Distinct(StringComparer.Ordinal).ToList();
            var where = context.Where(targets[0].Line, targets[0].Location);
            if (values.Count > 1)
                throw new PromotionException($"{where}: {targets.Count} targets reach this one value through anchors and want different values ({string.Join(", ", values)}); give each its own value");
            var value = values[0];
            if (node.Value == value) continue;

            var covered = new HashSet<object>(ReferenceEqualityComparer.Instance);
            foreach (var change in targets)
            {
                if (change.Target!.Node is SourceAlias alias) covered.Add(alias);
                else if (change.Target.Through.Count == 0) covered.Add(OwnPlace);
                else foreach (var through in change.Target.Through) covered.Add(through);
            }
            var others = Uses(node).Where(u => !covered.Contains(u)).ToList();
            if (others.Count == 0)
            {
                edits.Add(ScalarText.Replace(context.Text, node, value, where));
                continue;
            }
            foreach (var change in targets) edits.Add(OwnUse(context, change, node, others));
        }
        return edits;
    }

    /// <summary>The places that read <paramref name="node"/>: its own, and every alias of an anchor on it or around it.</summary>
    private static List<object> Uses(SourceNode node)
    {
        var uses = new List<object> { OwnPlace };
        for (var n = node; n is not null; n = n.Parent) uses.AddRange(n.Users);
        return uses;
    }

    private static bool Shared(SourceNode? node)
    {
        for (var n = node; n is not null; n = n.Parent)
            if (n.Users.Count > 0) return true;
        return false;
    }

    private static TextEdit OwnUse(EditContext context, PlannedChange change, SourceScalar node, List<object> others)
    {
        var target = change.Target!;
        if (target.Node is SourceAlias alias && !Shared(alias.Parent))
            return new TextEdit(alias.Start, alias.ContentEnd, ScalarText.Render(change.NewValue, alias.InFlow));
        if (target.InheritedInto is { } mapping && !Shared(mapping) && change.Path.Segments[^1] is KeySegment key)
            return MappingText.Append(context, mapping, [(key.Key, change.NewValue)]);

        var anchor = Anchored(node);
        var lines = others.Select(u => u is SourceAlias a ? $"line {a.Line} (*{a.Name})" : $"line {node.Line} (the value itself)").Distinct();
        throw new PromotionException($"{context.Where(change.Line, change.Location)} is shared through the anchor &{anchor?.Anchor} (line {anchor?.Line}) with {string.Join(", ", lines)}; editing it would change that too. Give the other use its own value in the file, or target every use (e.g. all matching containers)");
    }

    private static SourceNode? Anchored(SourceNode node)
    {
        for (var n = node; n is not null; n = n.Parent)
            if (n.Users.Count > 0) return n;
        return null;
    }
}
