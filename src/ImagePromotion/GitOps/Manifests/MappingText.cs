using System.Text;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>Adds entries to an existing mapping in its own style: indented lines for a block mapping, <c>, k: v</c> for a flow one.</summary>
internal static class MappingText
{
    public static TextEdit Append(EditContext context, SourceMapping mapping, IReadOnlyList<(string Key, string Value)> fields) =>
        mapping.Flow ? AppendFlow(mapping, fields) : AppendBlock(context, mapping, fields);

    private static TextEdit AppendBlock(EditContext context, SourceMapping mapping, IReadOnlyList<(string Key, string Value)> fields)
    {
        // The mapping's column is its first key's: new keys line up under it.
        var indent = new string(' ', mapping.Column - 1);
        var (at, prefix) = TextEdit.AfterLine(context.Text, mapping.ContentEnd, context.Newline);
        var sb = new StringBuilder(prefix);
        foreach (var (key, value) in fields)
            sb.Append(indent).Append(key).Append(": ").Append(ScalarText.Render(value, false)).Append(context.Newline);
        return new TextEdit(at, at, sb.ToString());
    }

    private static TextEdit AppendFlow(SourceMapping mapping, IReadOnlyList<(string Key, string Value)> fields)
    {
        var text = string.Concat(fields.Select(f => ", " + f.Key + ": " + ScalarText.Render(f.Value, inFlow: true)));
        if (mapping.Entries.Count == 0) return new TextEdit(mapping.ContentEnd - 1, mapping.ContentEnd - 1, text[2..]);
        var end = mapping.Entries[^1].Value.ContentEnd;
        return new TextEdit(end, end, text);
    }
}
