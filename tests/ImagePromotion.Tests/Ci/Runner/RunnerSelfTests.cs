using System.Text.Json.Nodes;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>The runner's own rules: expressions as GitHub evaluates them, the step files, and loud failure on anything unimplemented.</summary>
[TestFixture]
public sealed class RunnerSelfTests
{
    private static Expressions.Scope Scope(bool jobFailed = false) => new(new JsonObject
    {
        ["github"] = new JsonObject
        {
            ["event_name"] = "workflow_run", ["sha"] = "d00d",
            ["event"] = new JsonObject { ["workflow_run"] = new JsonObject { ["head_sha"] = "c0de", ["conclusion"] = "success" } },
        },
        ["inputs"] = new JsonObject { ["port_payload"] = """{"runId":"r_42","trigger":{}}""", ["empty"] = "" },
        ["secrets"] = (JsonObject)new JsonObject { ["TOKEN"] = "s3cret" }.DeepClone(),
    }, jobFailed);

    [Test]
    public void Interpolation_renders_strings_unquoted_and_missing_values_empty()
    {
        Assert.That(Expressions.Interpolate("user=${{ secrets.TOKEN }}", Scope()), Is.EqualTo("user=s3cret"));
        Assert.That(Expressions.Interpolate("${{ secrets.MISSING }}", Scope()), Is.Empty, "a missing secret is an empty string, as on GitHub");
        Assert.That(Expressions.Interpolate("${{ fromJson(inputs.port_payload).runId }}", Scope()), Is.EqualTo("r_42"));
    }

    [Test]
    public void Or_returns_the_first_truthy_operand_and_equality_ignores_case()
    {
        Assert.That(Expressions.Interpolate("${{ github.event.workflow_run.head_sha || github.sha }}", Scope()), Is.EqualTo("c0de"));
        Assert.That(Expressions.Interpolate("${{ inputs.empty || github.sha }}", Scope()), Is.EqualTo("d00d"));
        Assert.That(Expressions.Condition("github.event_name == 'WORKFLOW_RUN' && github.event.workflow_run.conclusion == 'success'", Scope()), Is.True);
        Assert.That(Expressions.Condition("github.event_name != 'workflow_run'", Scope()), Is.False);
    }

    [Test]
    public void Conditions_without_a_status_function_need_success_and_always_runs_anyway()
    {
        Assert.That(Expressions.Condition(null, Scope(jobFailed: true)), Is.False);
        Assert.That(Expressions.Condition("github.sha == 'd00d'", Scope(jobFailed: true)), Is.False);
        Assert.That(Expressions.Condition("always()", Scope(jobFailed: true)), Is.True);
        Assert.That(Expressions.Condition("${{ failure() }}", Scope(jobFailed: true)), Is.True);
    }

    [Test]
    public void Anything_not_implemented_fails_loudly()
    {
        Assert.That(() => Expressions.Evaluate("vars.REGION", Scope()), Throws.TypeOf<RunnerException>().With.Message.Contains("context 'vars'"));
        Assert.That(() => Expressions.Evaluate("contains(github.sha, 'd')", Scope()), Throws.TypeOf<RunnerException>().With.Message.Contains("contains"));
        Assert.That(() => Expressions.Interpolate("${{ github.sha", Scope()), Throws.TypeOf<RunnerException>());
    }

    [Test]
    public void Step_files_read_both_forms_and_workflow_commands_are_recognised()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "digest=sha256:abc\nsummary<<ghadelimiter_1\nline one\nline=two\nghadelimiter_1\nempty=\n");
            Assert.That(StepFiles.ReadKeyValues(file), Is.EqualTo(new Dictionary<string, string>
            {
                ["digest"] = "sha256:abc", ["summary"] = "line one\nline=two", ["empty"] = "",
            }));
        }
        finally { File.Delete(file); }
        Assert.That(StepFiles.ParseCommand("::add-mask::s3cret"), Is.EqualTo(("add-mask", "", "s3cret")));
        Assert.That(StepFiles.ParseCommand("  ::set-output name=x::1")?.Command, Is.EqualTo("set-output"));
        Assert.That(StepFiles.ParseCommand("no :: command here"), Is.Null);
    }

    [Test]
    public void HashFiles_follows_the_matched_files_contents_and_is_empty_when_nothing_matches()
    {
        var workspace = Directory.CreateTempSubdirectory("hashfiles-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(workspace, "src", "deep"));
            File.WriteAllText(Path.Combine(workspace, "src", "deep", "a.cs"), "class A {}");
            File.WriteAllText(Path.Combine(workspace, "src", "b.txt"), "not matched");
            var scope = new Expressions.Scope(new JsonObject { ["github"] = new JsonObject { ["workspace"] = workspace } });
            string Hash(string expression) => Expressions.Interpolate("${{ " + expression + " }}", scope);
            var first = Hash("hashFiles('src/**/*.cs')");
            Assert.That(first, Does.Match("^[0-9a-f]{64}$"));
            File.WriteAllText(Path.Combine(workspace, "src", "b.txt"), "changed, still not matched");
            Assert.That(Hash("hashFiles('src/**/*.cs')"), Is.EqualTo(first));
            File.WriteAllText(Path.Combine(workspace, "src", "deep", "a.cs"), "class A { int x; }");
            Assert.That(Hash("hashFiles('src/**/*.cs')"), Is.Not.EqualTo(first));
            Assert.That(Hash("hashFiles('src/**', '!src/**/*.cs')"), Is.Not.EqualTo(Hash("hashFiles('src/**')")), "'!' excludes");
            Assert.That(Hash("hashFiles('nothing/**')"), Is.Empty);
        }
        finally { Directory.Delete(workspace, recursive: true); }
    }
}
