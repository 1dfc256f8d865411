using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Turns YamlDotNet's low-level parser events into <see cref="SourceNode"/> trees, one per document,
/// refusing hostile input (deep nesting, alias bombs) before anything is expanded.
/// </summary>
internal static class SourceTreeReader
{
    public static IReadOnlyList<SourceDocument> Read(string text, string file, ManifestLimits limits)
    {
        var documents = new List<SourceDocument>();
        var stack = new Stack<(SourceNode Node, SourceNode? PendingKey)>();
        var anchors = new Dictionary<string, SourceNode>(StringComparer.Ordinal);
        SourceNode? root = null;
        var flowDepth = 0;
        var aliases = 0;
        long expansion = 0;
        var parser = new Parser(new StringReader(text));
        try
        {
            while (parser.MoveNext())
            {
                var ev = parser.Current!;
                switch (ev)
                {
                    case DocumentStart:
                        root = null;
                        anchors.Clear();
                        break;
                    case DocumentEnd:
                        documents.Add(new SourceDocument(documents.Count, root));
                        break;
                    case Scalar s:
                        Attach(new SourceScalar
                        {
                            Start = Index(s.Start), ContentEnd = Index(s.End), Line = Line(s.Start), Column = Column(s.Start),
                            InFlow = flowDepth > 0, Anchor = AnchorOf(s.Anchor), Value = s.Value, Style = s.Style,
                            ValueStart = s.Anchor.IsEmpty && s.Tag.IsEmpty ? Index(s.Start) : SkipProperties(text, Index(s.Start), Index(s.End)),
                        });
                        break;
                    case AnchorAlias a:
                        if (++aliases > limits.MaxAliases)
                            throw new PromotionException($"{file}:{Line(a.Start)}: more than {limits.MaxAliases} aliases; refusing a possible alias bomb (raise ManifestLimits.MaxAliases if the file is genuine)");
                        if (!anchors.TryGetValue(a.Value.Value, out var target))
                            throw new PromotionException($"{file}:{Line(a.Start)}: alias *{a.Value.Value} refers to no anchor defined before it; define &{a.Value.Value} first");
                        expansion = Saturating(expansion, target.Weight);
                        if (expansion > limits.MaxAliasExpansion)
                            throw new PromotionException($"{file}:{Line(a.Start)}: aliases would expand to more than {limits.MaxAliasExpansion} nodes; refusing an alias bomb (raise ManifestLimits.MaxAliasExpansion if the file is genuine)");
                        var alias = new SourceAlias
                        {
                            Start = Index(a.Start), ContentEnd = Index(a.End), Line = Line(a.Start), Column = Column(a.Start),
                            InFlow = flowDepth > 0, Name = a.Value.Value, Target = target, Weight = target.Weight,
                        };
                        target.Users.Add(alias);
                        Attach(alias);
                        break;
                    case MappingStart m:
                        Push(new SourceMapping
                        {
                            Start = Index(m.Start), Line = Line(m.Start), Column = Column(m.Start), InFlow = flowDepth > 0,
                            Anchor = AnchorOf(m.Anchor), Flow = m.Style == MappingStyle.Flow, File = file,
                        }, m.Style == MappingStyle.Flow, m.Start);
                        break;
                    case SequenceStart q:
                        Push(new SourceSequence
                        {
                            Start = Index(q.Start), Line = Line(q.Start), Column = Column(q.Start), InFlow = flowDepth > 0,
                            Anchor = AnchorOf(q.Anchor), Flow = q.Style == SequenceStyle.Flow,
                        }, q.Style == SequenceStyle.Flow, q.Start);
                        break;
                    case MappingEnd or SequenceEnd:
                        Pop(ev);
                        break;
                }
            }
        }
        catch (YamlException ex)
        {
            var why = ex.Message.TrimEnd('.');
            throw new PromotionException($"{file}:{ex.Start.Line}:{ex.Start.Column}: malformed YAML ({why}); fix the syntax and retry", ex);
        }
        return documents;

        void Push(SourceNode node, bool flow, Mark start)
        {
            if (stack.Count >= limits.MaxDepth)
                throw new PromotionException($"{file}:{start.Line}: YAML nested deeper than {limits.MaxDepth} levels; refusing it (manifests are never this deep)");
            stack.Push((node, null));
            if (flow) flowDepth++;
        }

        void Pop(ParsingEvent end)
        {
            var (node, _) = stack.Pop();
            var flow = node is SourceMapping { Flow: true } or SourceSequence { Flow: true };
            if (flow)
            {
                flowDepth--;
                // The closing bracket's event starts at the bracket itself.
                node.ContentEnd = Index(end.Start) + 1;
            }
            else
            {
                var last = node is SourceMapping m ? (m.Entries.Count > 0 ? m.Entries[^1].Value : null)
                    : ((SourceSequence)node).Items.LastOrDefault();
                node.ContentEnd = last?.ContentEnd ?? node.Start;
            }
            Attach(node);
        }

        void Attach(SourceNode node)
        {
            if (node.Anchor is not null) anchors[node.Anchor] = node;
            if (stack.Count == 0) { root = node; return; }
            var (parent, pendingKey) = stack.Pop();
            node.Parent = parent;
            parent.Weight = Saturating(parent.Weight, node.Weight);
            switch (parent)
            {
                case SourceMapping m when pendingKey is null:
                    stack.Push((parent, node));
                    return;
                case SourceMapping m:
                    m.Entries.Add((pendingKey, node));
                    break;
                case SourceSequence q:
                    q.Items.Add(node);
                    break;
            }
            stack.Push((parent, null));
        }
    }

    /// <summary>Skips <c>&amp;anchor</c> and <c>!tag</c> (and the blanks and comments after them) in front of a scalar.</summary>
    private static int SkipProperties(string text, int start, int end)
    {
        var i = start;
        while (i < end)
        {
            var c = text[i];
            if (c is '&' or '!')
                while (i < end && !char.IsWhiteSpace(text[i])) i++;
            else if (c is ' ' or '\t' or '\r' or '\n') i++;
            else if (c == '#')
                while (i < end && text[i] != '\n') i++;
            else break;
        }
        return i;
    }

    private static long Saturating(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
    private static int Index(Mark m) => checked((int)m.Index);
    private static int Line(Mark m) => (int)m.Line;
    private static int Column(Mark m) => (int)m.Column;
    private static string? AnchorOf(AnchorName anchor) => anchor.IsEmpty ? null : anchor.Value;
}
