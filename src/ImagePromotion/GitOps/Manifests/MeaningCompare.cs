namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Compares two readings of one document the way a YAML consumer sees them (aliases followed), to prove an
/// edit changed nothing but its targets: a value reached through an alias or a merge key that moved with
/// the target shows up here under the other container's own path.
/// </summary>
internal static class MeaningCompare
{
    /// <summary>
    /// The first difference outside <paramref name="allowed"/> (concrete paths such as
    /// <c>.spec.template.spec.containers[0].image</c>; entries added on the way to one of them are allowed too),
    /// described as "path: before → after", or null when there is none.
    /// </summary>
    public static string? Unexpected(SourceNode? before, SourceNode? after, IReadOnlySet<string> allowed) =>
        Walk(before, after, new YamlPath([]), allowed);

    private static string? Walk(SourceNode? before, SourceNode? after, YamlPath path, IReadOnlySet<string> allowed)
    {
        var here = path.ToString();
        if (allowed.Contains(here)) return null;
        var (a, b) = (before?.Deref(), after?.Deref());
        switch (a, b)
        {
            case (null, null):
                return null;
            case (SourceScalar x, SourceScalar y):
                return x.Value == y.Value && Typed(x) == Typed(y) ? null : $"{Shown(here)}: '{x.Value}' → '{y.Value}'";
            case (SourceSequence x, SourceSequence y):
                for (var i = 0; i < Math.Max(x.Items.Count, y.Items.Count); i++)
                {
                    var item = path.Append(new IndexSegment(i));
                    if (i >= y.Items.Count) return $"{Shown(item.ToString())} removed";
                    if (i >= x.Items.Count)
                    {
                        if (!OnTheWay(item.ToString(), allowed)) return $"{Shown(item.ToString())} added";
                        continue;
                    }
                    if (Walk(x.Items[i], y.Items[i], item, allowed) is { } difference) return difference;
                }
                return null;
            case (SourceMapping x, SourceMapping y):
                var left = Keyed(x);
                var right = Keyed(y);
                foreach (var (key, value) in left)
                {
                    var entry = path.Append(new KeySegment(key.Name));
                    if (!right.TryGetValue(key, out var other)) return $"{Shown(entry.ToString())} removed";
                    if (Walk(value, other, entry, allowed) is { } difference) return difference;
                }
                foreach (var key in right.Keys.Where(k => !left.ContainsKey(k)))
                {
                    var entry = path.Append(new KeySegment(key.Name)).ToString();
                    if (!OnTheWay(entry, allowed)) return $"{Shown(entry)} added";
                }
                return null;
            default:
                return $"{Shown(here)}: {Kind(a)} → {Kind(b)}";
        }
    }

    /// <summary>Entries by key text and occurrence, so a repeated key pairs with its own counterpart.</summary>
    private static Dictionary<(string Name, int Occurrence), SourceNode> Keyed(SourceMapping mapping)
    {
        var result = new Dictionary<(string, int), SourceNode>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in mapping.Entries)
        {
            var name = k.Deref() is SourceScalar s ? s.Value : $"(complex key at line {k.Line})";
            seen[name] = seen.GetValueOrDefault(name) + 1;
            result[(name, seen[name])] = v;
        }
        return result;
    }

    private static bool OnTheWay(string path, IReadOnlySet<string> allowed) =>
        allowed.Any(a => a == path || a.StartsWith(path + ".", StringComparison.Ordinal) || a.StartsWith(path + "[", StringComparison.Ordinal));

    // A plain 1.10 is a number to a loader, "1.10" a string: same characters, different meaning.
    private static bool Typed(SourceScalar s) => s.Style == YamlDotNet.Core.ScalarStyle.Plain && ScalarText.ReadsAsNonString(s.Value);

    private static string Kind(SourceNode? node) => node switch
    {
        SourceScalar => "a scalar",
        SourceMapping => "a mapping",
        SourceSequence => "a list",
        _ => "nothing",
    };

    private static string Shown(string path) => path.Length == 0 ? "the document" : path;
}
