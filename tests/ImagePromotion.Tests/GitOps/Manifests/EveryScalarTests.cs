using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>
/// For every value scalar in every corpus input, writing through an explicit path must change that
/// scalar's characters and nothing else: the text before and after it stays identical. A scalar that other
/// places read through an anchor is refused instead, naming the anchor (writing it would move them too).
/// </summary>
[TestFixture]
public sealed class EveryScalarTests
{
    public static IEnumerable<TestCaseData> Inputs() =>
        Directory.EnumerateDirectories(Path.Combine(AppContext.BaseDirectory, "Corpus", "manifests"))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(name => new TestCaseData(name).SetName($"EveryScalar_{name}"));

    [TestCaseSource(nameof(Inputs))]
    public void Only_the_targeted_scalar_changes(string name)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpus", "manifests", name, "input.yaml"));
        var body = text.TrimStart('\uFEFF');
        var bom = text.Length - body.Length;
        var documents = SourceTreeReader.Read(body, name, ManifestLimits.Default);
        var checkedScalars = 0;
        foreach (var document in documents)
        {
            foreach (var (path, scalar) in Leaves(document.Root, new YamlPath([])))
            {
                const string image = "example.com/x:9";
                if (SharedThroughAnAnchor(scalar))
                {
                    var refused = Assert.Throws<PromotionException>(() => ManifestEditor.Edit(text, name, new YamlPathTarget(path.ToString(), document.Index), image));
                    Assert.That(refused!.Message, Does.Contain("is shared through the anchor &"), path.ToString());
                    checkedScalars++;
                    continue;
                }
                var edit = ManifestEditor.Edit(text, name, new YamlPathTarget(path.ToString(), document.Index), image);
                var prefix = bom + scalar.ValueStart;
                var suffix = body.Length - scalar.ContentEnd;
                Assert.That(edit.Text[..prefix], Is.EqualTo(text[..prefix]), $"{path}: text before the scalar");
                Assert.That(edit.Text[^suffix..], Is.EqualTo(text[^suffix..]), $"{path}: text after the scalar");
                Assert.That(edit.Text[prefix..^suffix], Does.Contain(image).Or.EqualTo(scalar.Value == image ? scalar.Value : "?"), path.ToString());
                checkedScalars++;
            }
        }
        Assert.That(checkedScalars, Is.GreaterThan(3));
    }

    private static bool SharedThroughAnAnchor(SourceNode node)
    {
        for (var n = node; n is not null; n = n.Parent)
            if (n.Users.Count > 0) return true;
        return false;
    }

    private static IEnumerable<(YamlPath, SourceScalar)> Leaves(SourceNode? node, YamlPath path)
    {
        switch (node)
        {
            case SourceScalar s when s.Style is not (YamlDotNet.Core.ScalarStyle.Literal or YamlDotNet.Core.ScalarStyle.Folded) && path.Segments.Count > 0:
                yield return (path, s);
                break;
            case SourceMapping m:
                foreach (var (key, value) in m.Entries)
                    if (key is SourceScalar k && !k.Value.Contains('"'))
                        foreach (var leaf in Leaves(value, path.Append(new KeySegment(k.Value)))) yield return leaf;
                break;
            case SourceSequence q:
                for (var i = 0; i < q.Items.Count; i++)
                    foreach (var leaf in Leaves(q.Items[i], path.Append(new IndexSegment(i)))) yield return leaf;
                break;
        }
    }
}
