using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImagePromotion.Ci;
using ImagePromotion.Logging;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

/// <summary>deploy/aws: the CodePipeline stages, their CodeBuild projects and the buildspecs they run.</summary>
[TestFixture]
public sealed class AwsPipelineTests
{
    private static readonly Dictionary<string, string> PhaseTargets = new()
    {
        ["build"] = "BuildOnce",
        ["push"] = "PushDev",
        ["scan"] = "Scan",
        ["promote-staging"] = "PromoteStaging",
        ["promote-production"] = "PromoteProduction",
        ["release-tag"] = "ReleaseTag",
    };

    private static Dictionary<object, object?> Template() => RepositoryYaml.Load("deploy/aws/pipeline.yml");

    private static List<Dictionary<object, object?>> Stages() =>
        Template().Map("Resources").Map("Pipeline").Map("Properties").List("Stages").Cast<Dictionary<object, object?>>().ToList();

    private static IEnumerable<Dictionary<object, object?>> Actions() =>
        Stages().SelectMany(s => s.List("Actions").Cast<Dictionary<object, object?>>());

    [Test]
    public void Stages_follow_the_promotion_order()
    {
        Assert.That(Stages().Select(s => s.Text("Name")), Is.EqualTo(new[]
        {
            "Source", "Build", "Push", "Scan", "PromoteStaging", "Approval", "PromoteProductionRepo", "ReleaseTag",
        }));
        var approval = Stages().Single(s => s.Text("Name") == "Approval").List("Actions").Cast<Dictionary<object, object?>>().Single();
        Assert.That(approval.Map("ActionTypeId").Text("Category"), Is.EqualTo("Approval"));
        Assert.That(approval.Map("ActionTypeId").Text("Provider"), Is.EqualTo("Manual"));
        var runOrders = Actions().Select(a => int.Parse(a.Text("RunOrder")!)).ToArray();
        Assert.That(runOrders, Is.Ordered.Ascending);
    }

    [Test]
    public void Cloudformation_short_form_functions_are_read_as_values()
    {
        var pipeline = Template().Map("Resources").Map("Pipeline").Map("Properties");
        Assert.That(pipeline.Map("ArtifactStore").Text("Location"), Is.EqualTo("ArtifactBucket"), "!Ref");
        Assert.That(pipeline.Text("Name"), Is.EqualTo("${AWS::StackName}-image-promotion"), "!Sub");
        Assert.That(Template().Map("Outputs").Map("PipelineVersion").Text("Value"), Is.EqualTo("Pipeline.Version"), "!GetAtt");
    }

    [Test]
    public void Every_codebuild_action_names_a_project_whose_buildspec_exists()
    {
        var resources = Template().Map("Resources");
        var codeBuildActions = Actions().Where(a => a.Map("ActionTypeId").Text("Provider") == "CodeBuild").ToArray();
        Assert.That(codeBuildActions, Has.Length.EqualTo(PhaseTargets.Count));
        foreach (var action in codeBuildActions)
        {
            var projectId = action.Map("Configuration").Text("ProjectName")!;
            var project = resources.Map(projectId);
            Assert.That(project.Text("Type"), Is.EqualTo("AWS::CodeBuild::Project"), projectId);
            var buildspec = project.Map("Properties").Map("Source").Text("BuildSpec")!;
            Assert.That(File.Exists(RepositoryRoot.File(buildspec)), Is.True, $"{projectId}: {buildspec} is missing");
            Assert.That(project.Map("Properties").Map("Artifacts").Text("Type"), Is.EqualTo("CODEPIPELINE"));
        }
        var allProjects = resources.Where(r => r.Value.Text("Type") == "AWS::CodeBuild::Project").Select(r => (string)r.Key);
        Assert.That(codeBuildActions.Select(a => a.Map("Configuration").Text("ProjectName")), Is.EquivalentTo(allProjects), "no orphan project");
    }

    [TestCaseSource(nameof(Phases))]
    public void Buildspec_is_version_0_2_installs_dotnet_10_and_runs_its_target(string phase)
    {
        var spec = RepositoryYaml.Load($"deploy/aws/buildspec-{phase}.yml");
        Assert.That(spec.Text("version"), Is.EqualTo("0.2"));
        var install = spec.Map("phases").Map("install").List("commands").Select(c => c!.ToString()!).ToArray();
        Assert.That(install, Has.Some.Contains("--channel 10.0"));

        var build = spec.Map("phases").Map("build").List("commands").Select(c => c!.ToString()!).ToArray();
        var targets = build.SelectMany(c => Regex.Matches(c, @"^\./build\.sh\b.*?--target=(\w+)").Select(m => m.Groups[1].Value)).ToArray();
        Assert.That(targets, Is.EqualTo(new[] { PhaseTargets[phase] }));
        Assert.That(targets, Is.SubsetOf(PipelineTargets.All));
        Assert.That(build.Last(), Does.Contain(". ./" + CodeBuildBuildSystem.DefaultExportedVariablesFile), "exported variables are sourced last");
        Assert.That(spec.Map("env").List("exported-variables"), Is.Not.Empty);
    }

    [TestCaseSource(nameof(Phases))]
    public void Buildspec_logs_in_to_the_registry_before_the_pipeline_runs(string phase)
    {
        // Every stage talks to the registry (the build looks the commit's dev tag up first), so every stage logs in.
        var preBuild = RepositoryYaml.Load($"deploy/aws/buildspec-{phase}.yml").Map("phases").Map("pre_build").List("commands").Select(c => c!.ToString()!).ToArray();
        Assert.That(preBuild, Has.Some.Contains("aws ecr get-login-password"));
        Assert.That(preBuild, Has.Some.Contains("export REGISTRY_USERNAME=AWS"));
    }

    [Test]
    public void Only_the_build_project_is_privileged_and_no_project_sets_unused_variables()
    {
        var projects = Template().Map("Resources").Where(r => r.Value.Text("Type") == "AWS::CodeBuild::Project")
            .ToDictionary(r => (string)r.Key, r => r.Value.Map("Properties"));
        foreach (var (id, project) in projects)
        {
            Assert.That(project.Map("Environment").Text("PrivilegedMode"), Is.EqualTo(id == "CodeBuildBuildProject" ? "true" : "false"), id);
            var variables = project.Map("Environment").List("EnvironmentVariables").Cast<Dictionary<object, object?>>().Select(v => v.Text("Name"));
            Assert.That(variables, Is.EqualTo(new[] { "PROMOTION_CONFIG" }), id);
        }
        var push = RepositoryYaml.Load("deploy/aws/buildspec-push.yml").Map("phases").Map("build").List("commands").Select(c => c!.ToString()!);
        Assert.That(push, Has.Some.Contains("--target=PushDev --exclusive"), "the push stage runs PushDev without its BuildOnce dependency");
    }

    [Test]
    public void Every_pipeline_variable_used_is_exported_by_an_earlier_action()
    {
        var exportedBy = new Dictionary<string, HashSet<string>>();
        var resources = Template().Map("Resources");
        foreach (var action in Actions())
        {
            foreach (Match m in Regex.Matches(string.Join(" ", action.Map("Configuration").Values.Select(v => v?.ToString())), @"#\{(\w+)\.(\w+)\}"))
            {
                Assert.That(exportedBy.ContainsKey(m.Groups[1].Value), Is.True, $"{action.Text("Name")}: namespace {m.Groups[1].Value} is not from an earlier action");
                Assert.That(exportedBy[m.Groups[1].Value], Does.Contain(m.Groups[2].Value), $"{action.Text("Name")}: {m.Value} is not exported");
            }
            if (action.Text("Namespace") is not { } ns || action.Map("ActionTypeId").Text("Provider") != "CodeBuild") continue;
            var buildspec = resources.Map(action.Map("Configuration").Text("ProjectName")!).Map("Properties").Map("Source").Text("BuildSpec")!;
            exportedBy[ns] = RepositoryYaml.Load(buildspec).Map("env").List("exported-variables").Select(v => v!.ToString()!).ToHashSet();
        }
        Assert.That(exportedBy, Does.ContainKey("StagingVariables"));
    }

    [Test]
    public void Action_environment_variables_are_valid_json()
    {
        foreach (var action in Actions().Where(a => a.Map("Configuration").ContainsKey("EnvironmentVariables")))
        {
            var list = JsonNode.Parse(action.Map("Configuration").Text("EnvironmentVariables")!)!.AsArray();
            Assert.That(list.Select(v => v!["name"]!.GetValue<string>()), Does.Contain("PROMOTE_IMAGE"));
            Assert.That(list.Select(v => v!["type"]!.GetValue<string>()), Is.All.EqualTo("PLAINTEXT"));
        }
    }

    [Test]
    public void The_buildspec_source_line_exports_what_the_pipeline_wrote()
    {
        // Run the buildspec's own last command in bash, after CodeBuildBuildSystem wrote the outputs,
        // and read the variables back from that same shell, as CodeBuild does for exported-variables.
        using var sandbox = new CiSandbox();
        var env = new Dictionary<string, string?> { ["CODEBUILD_BUILD_ID"] = "push:1" };
        using (var ci = BuildSystemDetector.Detect(env, new BuildSystemOptions { WorkingDirectory = sandbox.Root, Stdout = TextWriter.Null, Redactor = new SecretRedactor() }))
        {
            ci.SetOutput(OutputNames.Image, "registry.example.com/app@sha256:" + new string('d', 64));
            ci.SetOutput(OutputNames.Digest, "sha256:" + new string('d', 64));
        }
        var spec = RepositoryYaml.Load("deploy/aws/buildspec-push.yml");
        var sourceLine = spec.Map("phases").Map("build").List("commands").Last()!.ToString()!;
        var exported = spec.Map("env").List("exported-variables").Select(v => v!.ToString()!).ToArray();
        var script = sourceLine + "\n" + string.Join("\n", exported.Select(v => $"printf '%s=%s\\n' {v} \"${v}\""));

        var psi = new ProcessStartInfo("bash", ["-c", script]) { WorkingDirectory = sandbox.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        using var bash = Process.Start(psi)!;
        var output = bash.StandardOutput.ReadToEnd();
        Assert.That(bash.WaitForExit(10_000), Is.True);
        Assert.That(bash.ExitCode, Is.EqualTo(0), bash.StandardError.ReadToEnd());
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[]
        {
            "IMAGE=registry.example.com/app@sha256:" + new string('d', 64),
            "DIGEST=sha256:" + new string('d', 64),
        }));
    }

    private static IEnumerable<string> Phases() => PhaseTargets.Keys;
}
