using System.Text;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Edits the <c>images:</c> list of a kustomization.yaml. Kustomize rewrites a container image
/// <c>name</c> to <c>newName:newTag@digest</c>; a digest alone drops the tag, a tag alone drops the digest.
/// </summary>
internal static class KustomizeImages
{
    public static EditPlan Plan(EditContext context, KustomizeImageTarget target)
    {
        var document = context.Documents.FirstOrDefault(d => d.Root is not null)
            ?? throw new PromotionException($"{context.File}: the kustomization is empty; add at least 'resources:'");
        if (document.Root!.Deref() is not SourceMapping root || root.Flow)
            throw new PromotionException($"{context.File}:{document.Root.Line}: the kustomization is not a block mapping; write it as 'key: value' lines");
        var image = context.Image;
        var entryName = target.Name ?? image.Name;
        var changes = new List<PlannedChange>();
        var insertions = new List<TextEdit>();

        var imagesNode = root.Get("images");
        if (imagesNode is null)
        {
            // No images key: append one after the last line of the document's content.
            var fields = Fields(entryName, image, target);
            var (at, prefix) = TextEdit.AfterLine(context.Text, root.ContentEnd, context.Newline);
            var indent = new string(' ', root.Column - 1);
            var sb = new StringBuilder(prefix).Append(indent).Append("images:").Append(context.Newline);
            AppendBlockItem(sb, indent, indent + "  ", fields, context.Newline);
            insertions.Add(new TextEdit(at, at, sb.ToString()));
            changes.AddRange(Added(context, document.Index, 0, fields, root.ContentEnd));
            return new EditPlan(changes, insertions, []);
        }
        if (imagesNode.Deref() is not SourceSequence images)
            throw new PromotionException($"{context.Where(imagesNode.Line, ".images")} is not a list; write it as a list of '- name: …' entries");

        var matches = images.Items.Select((node, i) => (Node: node.Deref() as SourceMapping, Index: i))
            .Where(e => e.Node is not null && IsEntryFor(e.Node, target, image)).ToList();
        if (matches.Count > 1)
            throw new PromotionException($"{context.File}: {matches.Count} images entries match '{entryName}' (lines {string.Join(", ", matches.Select(m => m.Node!.Line))}); ambiguous: set the entry name in the target");
        if (matches.Count == 0)
        {
            var fields = Fields(entryName, image, target);
            insertions.Add(images.Flow ? FlowItem(context, images, fields) : BlockItem(context, images, fields));
            changes.AddRange(Added(context, document.Index, images.Items.Count, fields, images.ContentEnd));
            return new EditPlan(changes, insertions, []);
        }

        var (entry, index) = (matches[0].Node!, matches[0].Index);
        var basePath = new YamlPath([new KeySegment("images"), new IndexSegment(index)]);
        var missing = new List<(string Key, string Value)>();
        void Set(string key, string value)
        {
            var path = basePath.Append(new KeySegment(key));
            var located = context.Locate(document.Index, path);
            if (located is null) missing.Add((key, value));
            else changes.Add(context.SetScalar(document.Index, located, path.ToString(), value));
        }

        var effectiveName = entry.GetString("newName") is { Length: > 0 } n ? n : entry.GetString("name");
        if (!image.SameRepository(effectiveName)) Set("newName", image.Name);
        var where = context.Where(entry.Line, basePath.ToString());
        if (image.Tag is not null) Set("newTag", image.Tag);
        else if (entry.GetString("newTag") is { Length: > 0 } oldTag)
            throw new PromotionException($"{where} has newTag '{oldTag}' but {image.Text} has no tag; give the image as repo:tag@sha256:… so the tag is not stale");
        if (image.Digest is not null) Set("digest", image.Digest);
        else if (entry.GetString("digest") is { Length: > 0 } oldDigest)
            throw new PromotionException($"{where} has digest {oldDigest} which would win over {image.Text}; give the image with its digest (repo:tag@sha256:…)");

        if (missing.Count > 0)
        {
            insertions.Add(MappingText.Append(context, entry, missing));
            changes.AddRange(missing.Select(f =>
            {
                var path = basePath.Append(new KeySegment(f.Key));
                return new PlannedChange(document.Index, path, path.ToString(), entry.Line, null, f.Value, null);
            }));
        }
        return new EditPlan(changes, insertions, [Rendered(entry)]);
    }

    /// <summary>The image kustomize writes for this entry: newName (or name), then :newTag and @digest.</summary>
    private static string Rendered(SourceMapping entry)
    {
        var name = entry.GetString("newName") is { Length: > 0 } n ? n : entry.GetString("name") ?? "";
        var tag = entry.GetString("newTag") is { Length: > 0 } t ? ":" + t : "";
        var digest = entry.GetString("digest") is { Length: > 0 } d ? "@" + d : "";
        return name + tag + digest;
    }

    private static bool IsEntryFor(SourceMapping entry, KustomizeImageTarget target, ImageText image)
    {
        var name = entry.GetString("name");
        if (target.Name is not null) return name == target.Name || ImageText.SameRepository(name, target.Name);
        return image.SameRepository(name) || image.SameRepository(entry.GetString("newName"));
    }

    private static List<(string Key, string Value)> Fields(string entryName, ImageText image, KustomizeImageTarget target)
    {
        var fields = new List<(string, string)> { ("name", entryName) };
        if (!image.SameRepository(entryName)) fields.Add(("newName", image.Name));
        if (image.Tag is not null) fields.Add(("newTag", image.Tag));
        if (image.Digest is not null) fields.Add(("digest", image.Digest));
        return fields;
    }

    private static IEnumerable<PlannedChange> Added(EditContext context, int document, int index, List<(string Key, string Value)> fields, int near)
    {
        var line = context.Text.AsSpan(0, Math.Min(near, context.Text.Length)).Count('\n') + 1;
        return fields.Select(f =>
        {
            var path = new YamlPath([new KeySegment("images"), new IndexSegment(index), new KeySegment(f.Key)]);
            return new PlannedChange(document, path, path.ToString(), line, null, f.Value, null);
        });
    }

    private static TextEdit BlockItem(EditContext context, SourceSequence images, List<(string Key, string Value)> fields)
    {
        // Copy the list's own indentation: the dash column and the key column of its first entry.
        var dash = LineIndent(context.Text, images.Items.Count > 0 ? images.Items[0].Start : images.Start, images.Column);
        var keys = images.Items.FirstOrDefault() is SourceMapping { Flow: false } first ? new string(' ', first.Column - 1) : dash + "  ";
        var (at, prefix) = TextEdit.AfterLine(context.Text, images.ContentEnd, context.Newline);
        var sb = new StringBuilder(prefix);
        AppendBlockItem(sb, dash, keys, fields, context.Newline);
        return new TextEdit(at, at, sb.ToString());
    }

    private static TextEdit FlowItem(EditContext context, SourceSequence images, List<(string Key, string Value)> fields)
    {
        var item = "{" + string.Join(", ", fields.Select(f => f.Key + ": " + ScalarText.Render(f.Value, inFlow: true))) + "}";
        if (images.Items.Count == 0) return new TextEdit(images.ContentEnd - 1, images.ContentEnd - 1, item);
        var end = images.Items[^1].ContentEnd;
        return new TextEdit(end, end, ", " + item);
    }

    private static void AppendBlockItem(StringBuilder sb, string dash, string keys, List<(string Key, string Value)> fields, string newline)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            sb.Append(i == 0 ? dash + "- " : keys).Append(fields[i].Key).Append(": ")
              .Append(ScalarText.Render(fields[i].Value, false)).Append(newline);
        }
    }

    /// <summary>Spaces before the dash of a block sequence item (its column minus 1, found from the text).</summary>
    private static string LineIndent(string text, int itemStart, int fallbackColumn)
    {
        var dash = text.LastIndexOf('-', Math.Max(0, itemStart - 1));
        var lineStart = dash < 0 ? -1 : text.LastIndexOf('\n', dash);
        if (dash < 0) return new string(' ', fallbackColumn - 1);
        return new string(' ', dash - lineStart - 1);
    }
}
