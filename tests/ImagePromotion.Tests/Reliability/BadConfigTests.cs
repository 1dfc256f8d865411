using System.Diagnostics;
using System.Text;
using ImagePromotion.Configuration;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// Malformed and hostile promotion.yaml, loaded as a host loads it: every case is one line naming the
/// file (and the line and key where there is one), in bounded time and memory, and never a crash.
/// </summary>
[TestFixture]
public sealed class BadConfigTests
{
    private const string Valid = """
        service: app
        registries:
          dev: { host: 127.0.0.1:5000, insecure: true }
        environments:
          dev: { registry: dev, repository: team/app, tag: "git-{commit}" }

        """;

    public sealed record BadConfig(string Name, Func<byte[]> Content, string Mentions)
    {
        public override string ToString() => Name;
    }

    private static Func<byte[]> Text(Func<string> text) => () => Encoding.UTF8.GetBytes(text());

    private static string AliasBomb()
    {
        // Billion laughs: nine levels of nine references, a 387 420 489-element tree if anyone expanded it.
        var sb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i <= 9; i++)
            sb.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        return Valid.Replace("service: app", "service: *a9").Insert(0, sb.ToString().Replace("a0: &a0", "x-anchors:\n  a0: &a0").Replace("\na", "\n  a"));
    }

    public static IEnumerable<BadConfig> Cases()
    {
        yield return new("deeply nested flow lists (200 000 levels)", Text(() => Valid + "x: " + new string('[', 200_000) + new string(']', 200_000)), "nested more than 64 levels");
        yield return new("alias bomb referenced from service", Text(AliasBomb), "'service' must be a text value");
        yield return new("list as a registry name", Text(() => Valid.Replace("  dev: { host", "  ? [a, b]\n  : { host")), "not a name");
        yield return new("mapping as a top-level key", Text(() => Valid + "? { a: b }\n: c\n"), "not a name");
        yield return new("900 KB host", Text(() => Valid.Replace("127.0.0.1:5000", new string('h', 900_000))), "environments.dev");
        yield return new("900 KB tag", Text(() => Valid.Replace("\"git-{commit}\"", new string('t', 900_000))), "environments.dev");
        yield return new("unknown key (typo)", Text(() => Valid.Replace("tag: \"git-{commit}\"", "tag: \"git-{commit}\", tagMayMov: false")), "unknown key 'environments.dev.tagMayMov'");
        yield return new("unknown top-level key", Text(() => Valid + "registry: oops\n"), "unknown key 'registry'");
        yield return new("wrong type for a flag", Text(() => Valid.Replace("insecure: true", "insecure: maybe")), "'registries.dev.insecure' must be true or false");
        yield return new("environment on an undeclared registry", Text(() => Valid.Replace("{ registry: dev,", "{ registry: nowhere,")), "'nowhere'");
        yield return new("unterminated quote", Text(() => Valid.Replace("\"git-{commit}\"", "\"git-{commit}")), "not valid YAML");
        yield return new("tab indentation", Text(() => Valid.Replace("  dev: { host", "\tdev: { host")), "not valid YAML");
        yield return new("two documents", Text(() => Valid + "---\n" + Valid), "one YAML document");
        yield return new("a list at the root", Text(() => "- service: app\n"), "one YAML document holding a mapping");
        yield return new("empty file", () => [], "is empty or not a regular file");
        yield return new("binary garbage", () => { var r = new Random(7); var b = new byte[4096]; r.NextBytes(b); return b; }, "");
        yield return new("over 1 MiB", Text(() => Valid + "# " + new string('x', 1024 * 1024)), "over 1 MiB");
        yield return new("invalid reference from the parts", Text(() => Valid.Replace("team/app", "Team/App")), "environments.dev");
    }

    [TestCaseSource(nameof(Cases))]
    public void Hostile_configuration_is_one_line_naming_the_file(BadConfig bad)
    {
        var file = Path.Combine(Path.GetTempPath(), $"bad-promotion-{Guid.NewGuid():N}.yaml");
        File.WriteAllBytes(file, bad.Content());
        try
        {
            var clock = Stopwatch.StartNew();
            var ex = Assert.Catch(() => ConfigLoader.Load(file))!;
            OneLine.AssertClear(ex, bad.Mentions);
            Assert.That(ex.Message, Does.Contain(file), "the message names the file");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        }
        finally { File.Delete(file); }
    }
}
