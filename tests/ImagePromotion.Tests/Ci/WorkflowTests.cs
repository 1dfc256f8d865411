using System.Text.RegularExpressions;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

/// <summary>The GitHub workflows in .github/workflows: triggers, targets, secrets and script-injection hygiene.</summary>
[TestFixture]
public sealed class WorkflowTests
{
    private static readonly string[] Workflows = ["build-push.yml", "promote-staging.yml", "promote-production.yml"];

    private static Dictionary<object, object?> Load(string name) => RepositoryYaml.Load(".github/workflows/" + name);

    private static IEnumerable<Dictionary<object, object?>> Steps(Dictionary<object, object?> workflow) =>
        workflow.Map("jobs").Values.SelectMany(job => job.List("steps")).Cast<Dictionary<object, object?>>();

    private static IEnumerable<string> Scripts(Dictionary<object, object?> workflow) =>
        Steps(workflow).Select(s => s.Text("run")).OfType<string>();

    [TestCaseSource(nameof(Workflows))]
    public void Permissions_are_minimal_and_read_only(string name)
    {
        var permissions = Load(name).Map("permissions");
        Assert.That(permissions, Is.Not.Empty);
        Assert.That(permissions.Values.Select(v => v?.ToString()), Is.All.EqualTo("read").Or.EqualTo("none"), name);
        foreach (var job in Load(name).Map("jobs").Values)
            Assert.That(job.Has("permissions"), Is.False, "jobs inherit the workflow's minimal permissions");
    }

    [TestCaseSource(nameof(Workflows))]
    public void Run_scripts_never_interpolate_expressions(string name)
    {
        // ${{ }} in a script is pasted into the shell text before it runs: untrusted input becomes code.
        foreach (var script in Scripts(Load(name)))
            Assert.That(script, Does.Not.Contain("${{"), $"{name}: pass values through env: instead\n{script}");
    }

    [TestCaseSource(nameof(Workflows))]
    public void Every_build_sh_call_names_a_known_target_and_dotnet_10_is_set_up(string name)
    {
        var workflow = Load(name);
        var calls = Scripts(workflow).SelectMany(s => Regex.Matches(s, @"\./build\.sh\b[^\n]*?--target=(\w+)").Select(m => m.Groups[1].Value)).ToArray();
        Assert.That(calls, Is.Not.Empty, name);
        Assert.That(calls.Distinct(), Is.SubsetOf(PipelineTargets.All));
        foreach (var job in workflow.Map("jobs").Values)
        {
            var steps = job.List("steps").Cast<Dictionary<object, object?>>().ToList();
            Assert.That(steps[0].Text("uses"), Does.StartWith("actions/checkout@"), "each job starts from its own checkout");
            var setup = steps.Single(s => s.Text("uses")?.StartsWith("actions/setup-dotnet@") == true);
            Assert.That(setup.Map("with").Text("dotnet-version"), Does.StartWith("10."));
        }
    }

    [TestCaseSource(nameof(Workflows))]
    public void Every_action_is_pinned_by_commit_sha_with_its_version_in_a_comment(string name)
    {
        var uses = File.ReadAllLines(RepositoryRoot.File(".github/workflows/" + name)).Where(l => l.TrimStart().StartsWith("uses:") || l.TrimStart().StartsWith("- uses:")).ToArray();
        Assert.That(uses, Is.Not.Empty);
        foreach (var line in uses)
            Assert.That(line, Does.Match(@"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$"), name);
    }

    [TestCaseSource(nameof(Workflows))]
    public void Hidden_artifacts_folder_is_uploaded_explicitly(string name)
    {
        // upload-artifact skips files below a dot-folder (.artifacts) unless told, since v4.4 (actions/upload-artifact#602).
        foreach (var upload in Steps(Load(name)).Where(s => s.Text("uses")?.StartsWith("actions/upload-artifact@") == true))
            if (upload.Map("with").Text("path")!.Contains("/.") || upload.Map("with").Text("path")!.StartsWith('.'))
                Assert.That(upload.Map("with").Text("include-hidden-files"), Is.EqualTo("true"), $"{name}: {upload.Map("with").Text("name")}");
    }

    [TestCaseSource(nameof(Workflows))]
    public void The_promotion_record_is_uploaded_even_when_the_run_fails(string name)
    {
        var upload = Steps(Load(name)).Single(s => s.Text("name") == "Upload promotion record");
        Assert.That(upload.Text("uses"), Does.StartWith("actions/upload-artifact@"));
        Assert.That(upload.Text("if"), Is.EqualTo("always()"));
        Assert.That(upload.Map("with").Text("path"), Does.EndWith(".jsonl"));
    }

    [Test]
    public void Build_push_runs_PushDev_on_pushes_to_main_then_scans_the_pushed_digest()
    {
        var workflow = Load("build-push.yml");
        Assert.That(workflow.Map("on").Map("push").List("branches"), Is.EqualTo(new[] { "main" }));
        Assert.That(Scripts(workflow), Has.Some.Contains("./build.sh --target=PushDev"));
        var scan = workflow.Map("jobs").Map("scan");
        Assert.That(scan.Text("needs"), Is.EqualTo("build-push"));
        var step = scan.List("steps").Cast<Dictionary<object, object?>>().Single(s => s.Text("run")?.Contains("--target=Scan") == true);
        Assert.That(step.Text("run"), Does.Contain("--image=\"$IMAGE\""));
        Assert.That(step.Map("env").Text("IMAGE"), Is.EqualTo("${{ needs.build-push.outputs.image }}"), "the scan reads the digest the build job pushed");
    }

    [Test]
    public void Promote_staging_follows_a_green_build_and_can_be_dispatched()
    {
        var workflow = Load("promote-staging.yml");
        var on = workflow.Map("on");
        Assert.That(on.Map("workflow_run").List("workflows"), Is.EqualTo(new[] { Load("build-push.yml").Text("name") }));
        Assert.That(on.Has("workflow_dispatch"), Is.True);
        var job = workflow.Map("jobs").Values.Single();
        Assert.That(job.Text("if"), Does.Contain("workflow_run.conclusion == 'success'"));
        Assert.That(Scripts(workflow), Has.Some.Contains("--target=PromoteStaging"));
    }

    [Test]
    public void Promote_production_plans_first_then_the_protected_job_promotes_the_planned_digest()
    {
        var workflow = Load("promote-production.yml");
        var inputs = workflow.Map("on").Map("workflow_dispatch").Map("inputs");
        Assert.That(inputs.Keys, Is.EquivalentTo(new[] { "entity", "production_runtime", "digest", "auto_merge_pr", "port_payload" }));

        var plan = workflow.Map("jobs").Map("plan");
        Assert.That(plan.Has("environment"), Is.False, "the plan runs before anybody approves");
        var planStep = plan.List("steps").Cast<Dictionary<object, object?>>().Single(s => s.Text("run")?.Contains("--target=PromoteProduction") == true);
        Assert.That(planStep.Text("run"), Does.Contain("--dryrun").And.Contain("--digest=\"$DIGEST\""));
        Assert.That(planStep.Map("env").Text("DIGEST"), Is.EqualTo("${{ inputs.digest }}"));
        Assert.That(plan.Map("outputs").Text("digest"), Is.EqualTo("${{ steps.plan.outputs.digest }}"));

        var job = workflow.Map("jobs").Map("promote-production");
        Assert.That(job.Text("needs"), Is.EqualTo("plan"));
        Assert.That(job.Text("environment"), Is.EqualTo("production"), "required reviewers are configured on the environment");
        var promote = job.List("steps").Cast<Dictionary<object, object?>>().Single(s => s.Text("run")?.Contains("--target=PromoteProduction") == true);
        var env = promote.Map("env");
        Assert.That(env.Text("PLANNED_DIGEST"), Is.EqualTo("${{ needs.plan.outputs.digest }}"));
        Assert.That(env.Text("PORT_RUN_ID"), Is.EqualTo("${{ fromJson(inputs.port_payload).runId }}"));
        Assert.That(env.Text("PORT_CLIENT_ID"), Is.EqualTo("${{ secrets.PORT_CLIENT_ID }}"));
        Assert.That(env.Text("PORT_CLIENT_SECRET"), Is.EqualTo("${{ secrets.PORT_CLIENT_SECRET }}"));
        Assert.That(env.Text("GITOPS_TOKEN"), Is.EqualTo("${{ secrets.GITOPS_TOKEN }}"));
        Assert.That(env.Text("REGISTRY_PASSWORD"), Is.EqualTo("${{ secrets.REGISTRY_PASSWORD }}"));
        Assert.That(env.Text("AUTO_MERGE_PR"), Is.EqualTo("${{ inputs.auto_merge_pr }}"));
        Assert.That(promote.Text("run"), Does.Contain("--digest=\"$PLANNED_DIGEST\"").And.Contain("--port-run-id=\"$PORT_RUN_ID\"")
            .And.Contain("--auto-merge=\"$AUTO_MERGE_PR\"").And.Contain("--environment=production"));
        var release = job.List("steps").Cast<Dictionary<object, object?>>().Single(s => s.Text("run")?.Contains("--target=ReleaseTag") == true);
        Assert.That(release.Map("env").Text("PROMOTED_DIGEST"), Is.EqualTo("${{ steps.promote.outputs.digest }}"));
    }

    [TestCaseSource(nameof(Workflows))]
    public void Secrets_reach_steps_only_through_env(string name)
    {
        foreach (var step in Steps(Load(name)).Where(s => s.Has("with")))
            Assert.That(step.Map("with").Values.Select(v => v?.ToString() ?? ""), Has.None.Contains("secrets."), $"{name}: step '{step.Text("name") ?? step.Text("uses")}'");
        var secretsInEnv = Steps(Load(name)).Where(s => s.Has("env")).SelectMany(s => s.Map("env").Values).Count(v => v?.ToString()?.Contains("secrets.") == true);
        Assert.That(secretsInEnv, Is.GreaterThan(0), name);
    }

    [TestCaseSource(nameof(Workflows))]
    public void Every_job_that_runs_build_sh_caches_the_nuget_packages_the_module_and_the_compiled_scripts(string name)
    {
        foreach (var (jobId, job) in Load(name).Map("jobs"))
        {
            var steps = job.List("steps").Cast<Dictionary<object, object?>>().ToList();
            var firstBuild = steps.FindIndex(s => s.Text("run")?.Contains("./build.sh") == true);
            if (firstBuild < 0) continue;
            var caches = steps.Take(firstBuild).Where(s => s.Text("uses")?.StartsWith("actions/cache@") == true).Select(s => s.Map("with")).ToList();
            var paths = caches.SelectMany(c => c.Text("path")!.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            Assert.That(paths, Is.EquivalentTo(new[] { "~/.nuget/packages", ".artifacts/module", "build/.cake-cache" }), $"{name}: {jobId}");
            // Keyed on what each is made from, so a changed source or package pin is never served an old build.
            Assert.That(caches.Select(c => c.Text("key")), Has.All.Contains("${{ hashFiles("), $"{name}: {jobId}");
            Assert.That(caches.Single(c => c.Text("path")!.Contains(".artifacts/module")).Text("key"), Does.Contain("src/ImagePromotion/**").And.Contain("build/**/*.cake"));
            Assert.That(caches.Single(c => c.Text("path")!.Contains(".nuget")).Text("key"), Does.Contain(".config/dotnet-tools.json").And.Contain("**/*.csproj"));
        }
    }
}
