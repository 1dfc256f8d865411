using System.Text.Json;
using ImagePromotion.GitOps.Manifests;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>
/// Each folder under Corpus/manifests holds input.yaml, expected.yaml and args.json. The input is copied
/// into a scratch repository, updated through the file API and compared byte for byte with expected.yaml.
/// </summary>
[TestFixture]
public sealed class ManifestCorpusTests
{
    private static string CorpusRoot => Path.Combine(TestContext.CurrentContext.TestDirectory, "Corpus", "manifests");

    public static IEnumerable<TestCaseData> Cases() =>
        Directory.EnumerateDirectories(Path.Combine(AppContext.BaseDirectory, "Corpus", "manifests"))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(name => new TestCaseData(name).SetName($"Corpus_{name}"));

    [TestCaseSource(nameof(Cases))]
    public async Task Corpus(string name)
    {
        var folder = Path.Combine(CorpusRoot, name);
        var input = await File.ReadAllBytesAsync(Path.Combine(folder, "input.yaml"));
        var expected = await File.ReadAllBytesAsync(Path.Combine(folder, "expected.yaml"));
        using var args = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "args.json")));
        var (target, image) = ReadArgs(args.RootElement);

        using var repo = new ScratchRepository();
        var path = repo.Write("deploy/manifest.yaml", input);
        var before = File.GetLastWriteTimeUtc(path);

        var result = await new ManifestUpdater(repo.Root).UpdateFileAsync("deploy/manifest.yaml", target, image);

        var actual = await File.ReadAllBytesAsync(path);
        Assert.That(System.Text.Encoding.UTF8.GetString(actual), Is.EqualTo(System.Text.Encoding.UTF8.GetString(expected)), "text");
        Assert.That(actual, Is.EqualTo(expected), "bytes");
        var changed = !input.AsSpan().SequenceEqual(expected);
        Assert.That(result.Changed, Is.EqualTo(changed));
        Assert.That(result.Status, Is.EqualTo(changed ? "changed" : "unchanged"));
        Assert.That(result.Changes, Is.Not.Empty);
        if (changed)
        {
            Assert.That(result.Diff, Does.StartWith("--- a/deploy/manifest.yaml\n+++ b/deploy/manifest.yaml\n@@ -"));
            foreach (var change in result.Changes.Where(c => c.Changed))
                Assert.That(result.Diff, Does.Contain(change.NewValue));
        }
        else
        {
            Assert.That(result.Diff, Is.Empty);
            Assert.That(File.GetLastWriteTimeUtc(path), Is.EqualTo(before));
        }
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    private static (ManifestTarget Target, string Image) ReadArgs(JsonElement a)
    {
        string? S(string key) => a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool B(string key) => a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;
        ManifestTarget target = S("target") switch
        {
            "container" => new ContainerImageTarget(S("container"), S("workload"), S("kind"), B("all")),
            "kustomize" => new KustomizeImageTarget(S("name")),
            "helm" => new HelmValuesTarget(
                S("repositoryKey") ?? "image.repository", S("tagKey") ?? "image.tag",
                S("digestKey") ?? "image.digest", S("registryKey"), B("digestInTag")),
            "path" => new YamlPathTarget(S("path")!),
            var other => throw new InvalidOperationException($"unknown target {other}"),
        };
        return (target, S("image")!);
    }
}
