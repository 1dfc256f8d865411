using ImagePromotion.CommandLine;

namespace ImagePromotion.Tests.CommandLine;

/// <summary>The pieces of the command line the Cake host uses: suggestions, help text, value checks, the invocation directory.</summary>
public sealed class CommandLineTests
{
    private static readonly string[] Targets = ["BuildOnce", "PushDev", "Scan", "PromoteStaging", "PromoteProduction", "Promote", "ReleaseTag", "Status", "Copy"];

    [TestCase("PromoteStagin", "PromoteStaging")]
    [TestCase("promotestaging", "PromoteStaging")]
    [TestCase("Stauts", "Status")]
    [TestCase("PromoteProd", "PromoteProduction")]
    [TestCase("resultfile", "result-file")]
    public void Closest_match_names_what_was_meant(string typed, string expected) =>
        Assert.That(Suggestions.ClosestMatch(typed, [.. Targets, "result-file", "from", "to"]), Is.EqualTo(expected));

    [TestCase("Nope")]
    [TestCase("Deploy")]
    [TestCase("x")]
    public void Nothing_near_gets_no_suggestion(string typed) =>
        Assert.That(Suggestions.ClosestMatch(typed, Targets), Is.Null);

    [Test]
    public void Distance_counts_a_swap_of_neighbours_as_one_edit()
    {
        Assert.That(Suggestions.Distance("status", "stauts"), Is.EqualTo(1));
        Assert.That(Suggestions.Distance("kitten", "sitting"), Is.EqualTo(3));
    }

    [Test]
    public void Help_lists_each_target_with_its_arguments_dependencies_and_the_default()
    {
        var lines = HelpText.Format(
            [
                new TargetUsage("Copy", "Copy an image", [ArgumentUsage.Parse("from=REF"), ArgumentUsage.Parse("no-tag-move"), ArgumentUsage.Parse("kustomize[=NAME]")], []),
                new TargetUsage("PromoteStaging", "Point the staging tags", [ArgumentUsage.Parse("digest=sha256:…")], ["PushDev"]),
            ],
            [new ArgumentUsage("config", "PATH", "the promotion configuration")], "PromoteStaging");
        var text = string.Join("\n", lines);

        Assert.That(lines[0], Is.EqualTo("Usage: ./build.sh [--target=NAME] [arguments]"));
        Assert.That(text, Does.Contain("Without --target, PromoteStaging runs."));
        // Names padded to the longest, "PromoteStaging (default)", plus two spaces; arguments under the description.
        var indent = new string(' ', 2 + 26);
        Assert.That(text, Does.Contain($"  {"Copy",-26}Copy an image\n{indent}arguments: --from=REF --no-tag-move --kustomize[=NAME]"));
        Assert.That(text, Does.Contain($"  {"PromoteStaging (default)",-26}Point the staging tags (runs PushDev first)\n{indent}arguments: --digest=sha256:…"));
        Assert.That(text, Does.Contain("  --config=PATH  the promotion configuration"));
        Assert.That(lines.Max(l => l.Length), Is.LessThanOrEqualTo(110));
    }

    [Test]
    public void Values_are_checked_with_the_argument_named()
    {
        Assert.That(ArgumentChecks.Boolean("auto-merge", "False"), Is.False);
        Assert.That(Assert.Throws<PromotionException>(() => ArgumentChecks.Boolean("auto-merge", "yes"))!.Message,
            Is.EqualTo("--auto-merge=yes is not a yes/no value: write --auto-merge=true or --auto-merge=false"));
        Assert.That(Assert.Throws<PromotionException>(() => ArgumentChecks.Digest("digest", "sha256:abc"))!.Message,
            Does.StartWith("--digest=sha256:abc is not a digest: write --digest=sha256:<64 lowercase hex digits>"));
        Assert.That(Assert.Throws<PromotionException>(() => ArgumentChecks.Reference("to", "Team/App"))!.Message,
            Does.StartWith("--to: invalid image reference").And.Contain("Team/App"));
    }

    [Test]
    public void An_output_file_needs_an_existing_directory_and_must_not_be_one()
    {
        var dir = Directory.CreateTempSubdirectory("cli-").FullName;
        try
        {
            Assert.That(ArgumentChecks.OutputFile("result-file", Path.Combine(dir, "r.json"), "r.json"), Is.EqualTo(Path.Combine(dir, "r.json")));
            Assert.That(Assert.Throws<PromotionException>(() => ArgumentChecks.OutputFile("result-file", Path.Combine(dir, "missing", "r.json"), "missing/r.json"))!.Message,
                Is.EqualTo($"--result-file=missing/r.json: the directory {Path.Combine(dir, "missing")} does not exist: create it first (relative paths start from the directory you ran ./build.sh from)"));
            Assert.That(Assert.Throws<PromotionException>(() => ArgumentChecks.OutputFile("result-file", dir, "out"))!.Message,
                Does.StartWith("--result-file=out is a directory: name a file"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void A_layout_source_needs_a_tag_and_a_layout_directory()
    {
        var dir = Directory.CreateTempSubdirectory("cli-layout-").FullName;
        try
        {
            string Resolve(string p) => Path.Combine(dir, p);
            Assert.That(Assert.Throws<PromotionException>(() => ArgumentChecks.Layout("from", "oci:.artifacts/oci", Resolve))!.Message,
                Does.StartWith("--from=oci:.artifacts/oci names no tag: an OCI layout holds images by tag, so write --from=oci:.artifacts/oci:TAG"));
            Assert.That(Assert.Throws<PromotionException>(() => ArgumentChecks.Layout("from", "oci:layout:v1", Resolve))!.Message,
                Does.StartWith($"--from=oci:layout:v1: {Path.Combine(dir, "layout")} is not an OCI image layout (no index.json)"));
            Directory.CreateDirectory(Path.Combine(dir, "layout"));
            File.WriteAllText(Path.Combine(dir, "layout", "index.json"), "{}");
            Assert.That(ArgumentChecks.Layout("from", "oci:layout:v1", Resolve), Is.EqualTo((Path.Combine(dir, "layout"), "v1")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void The_invocation_directory_is_the_launchers_then_the_shells_then_the_fallback()
    {
        var here = Path.GetTempPath();
        var other = Directory.CreateTempSubdirectory("cli-pwd-").FullName;
        try
        {
            Assert.That(InvocationDirectory.Find(new Dictionary<string, string?> { [InvocationDirectory.Variable] = other, ["PWD"] = here }, "/"), Is.EqualTo(other));
            Assert.That(InvocationDirectory.Find(new Dictionary<string, string?> { ["PWD"] = other }, "/"), Is.EqualTo(other));
            Assert.That(InvocationDirectory.Find(new Dictionary<string, string?> { [InvocationDirectory.Variable] = "relative/dir", ["PWD"] = Path.Combine(other, "gone") }, here),
                Is.EqualTo(Path.GetFullPath(here)));
            Assert.That(InvocationDirectory.Resolve(other, "examples/promotion.yaml"), Is.EqualTo(Path.Combine(other, "examples", "promotion.yaml")));
            Assert.That(InvocationDirectory.Resolve(other, "/etc/x.yaml"), Is.EqualTo("/etc/x.yaml"));
        }
        finally { Directory.Delete(other, true); }
    }
}
