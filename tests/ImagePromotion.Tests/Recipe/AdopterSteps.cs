using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Recipe;

/// <summary>
/// Step 2 of the README's "Adopt it in your repository", read from README.md itself, so the consumer tests
/// follow the steps as a reader does and a step that stops working fails a test: the setup commands (the
/// <c>bash</c> block that makes the tool manifest), and the files <c>build.cake</c> (<c>csharp</c>),
/// <c>cake.config</c> (<c>ini</c>), <c>nuget.config</c> (<c>xml</c>) and <c>.gitignore</c> (<c>gitignore</c>).
/// </summary>
internal sealed partial record AdopterSteps(IReadOnlyList<string> SetupCommands, string BuildCake, string CakeConfig, string NuGetConfig, string GitIgnore)
{
    /// <summary>The feed URL the README's nuget.config names, replaced by a test's package folder.</summary>
    public const string ExampleFeed = "https://nuget.example.com/v3/index.json";

    public static AdopterSteps Read(string repositoryRoot)
    {
        var readme = File.ReadAllText(Path.Combine(repositoryRoot, "README.md"));
        var start = readme.IndexOf("\n## Adopt it in your repository", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "README.md has no section \"## Adopt it in your repository\"");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];
        var blocks = FencedBlock().Matches(section).Select(m => (Language: m.Groups["language"].Value, Text: Unindent(m.Groups["body"].Value, m.Groups["indent"].Value))).ToList();

        string Only(string language, Func<string, bool>? where = null)
        {
            var found = blocks.Where(b => b.Language == language && (where?.Invoke(b.Text) ?? true)).Select(b => b.Text).ToList();
            Assert.That(found, Has.Count.EqualTo(1), $"README.md, \"Adopt it in your repository\": expected one ```{language} block{(where is null ? "" : " of that kind")}");
            return found[0];
        }

        var setup = Only("bash", t => t.Contains("tool-manifest", StringComparison.Ordinal));
        var commands = setup.Split('\n').Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0).ToList();
        return new AdopterSteps(commands, Only("csharp"), Only("ini"), Only("xml"), Only("gitignore"));
    }

    /// <summary>The README's nuget.config with its example feed replaced by <paramref name="feed"/>.</summary>
    public string NuGetConfigFor(string feed)
    {
        Assert.That(NuGetConfig, Does.Contain(ExampleFeed), "the README's nuget.config names the example feed");
        return NuGetConfig.Replace(ExampleFeed, feed, StringComparison.Ordinal);
    }

    private static string Unindent(string body, string indent) =>
        string.Join('\n', body.Split('\n').Select(l => l.StartsWith(indent, StringComparison.Ordinal) ? l[indent.Length..] : l.TrimStart())).TrimEnd() + "\n";

    // A fenced block, indented as in a numbered list item: the same indent before the opening and closing fence.
    [GeneratedRegex(@"^(?<indent>[ ]*)```(?<language>[a-z]+)\n(?<body>.*?)\n\k<indent>```[ ]*$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
