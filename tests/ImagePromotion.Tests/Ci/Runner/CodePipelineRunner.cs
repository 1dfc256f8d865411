using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CliWrap;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;
using YamlDotNet.Serialization;
using static ImagePromotion.Tests.Ci.Runner.GitHubActionsRunner;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>One action of a pipeline execution.</summary>
internal sealed class StageRun(string stage, string action, string provider)
{
    public string Stage { get; } = stage;
    public string Action { get; } = action;
    public string Provider { get; } = provider;
    public bool Succeeded { get; set; }
    public string? BuildId { get; set; }
    public string? Project { get; set; }
    public bool Privileged { get; set; }
    /// <summary>CODEBUILD_SRC_DIR of a CodeBuild action, kept after the build (its .artifacts are the stage's artifacts).</summary>
    public string? SourceDirectory { get; set; }
    /// <summary>What the manual approval showed the approver (its CustomData with the variables resolved).</summary>
    public string? ApprovalMessage { get; set; }
    /// <summary>The buildspec's evaluated cache key, and the key of the entry restored (null: none).</summary>
    public string? CacheKey { get; set; }
    public string? CacheRestored { get; set; }
    public Dictionary<string, string> Exported { get; } = new(StringComparer.Ordinal);
    public StringBuilder Log { get; } = new();
}

internal sealed class PipelineExecution
{
    public List<StageRun> Stages { get; } = [];
    /// <summary>The variables of each action namespace, as later actions read them with #{Namespace.NAME}.</summary>
    public Dictionary<string, Dictionary<string, string>> Variables { get; } = new(StringComparer.Ordinal);
    public bool Succeeded => Stages.Count > 0 && Stages.All(s => s.Succeeded);
    public StageRun this[string stage] => Stages.Single(s => s.Stage == stage);
    public override string ToString() => string.Join("\n", Stages.Select(s => $"--- {s.Stage}/{s.Action} ({s.Provider}): {(s.Succeeded ? "Succeeded" : "Failed")}\n{s.Log}"));
}

/// <summary>
/// Runs deploy/aws/pipeline.yml as CodePipeline (V2) and CodeBuild would, for one source commit: stages in order,
/// actions by RunOrder. The source action (CodeStarSourceConnection, CODE_ZIP) yields the commit's files without
/// git metadata; each CodeBuild action runs its project's buildspec in a fresh directory holding its input
/// artifacts (the primary as CODEBUILD_SRC_DIR, others as CODEBUILD_SRC_DIR_&lt;name&gt;), with the CODEBUILD_*
/// variables, the project's and the action's environment variables (#{Namespace.VAR} resolved from earlier
/// actions), the secrets-manager variables, and reads env.exported-variables from the build's shell afterwards.
/// The install phase (the .NET SDK download) is this runner's no-op: the machine's SDK is used. A manual approval
/// is a no-op too, with <see cref="OnApproval"/> as the moment a test may act. Anything of the template or a
/// buildspec this runner does not implement fails the execution.
/// </summary>
internal sealed class CodePipelineRunner(RunnerMachine machine, string sourceRoot)
{
    private static readonly HashSet<string> BuildspecKeys = ["version", "env", "phases", "artifacts", "cache"];
    private static readonly HashSet<string> EnvKeys = ["shell", "variables", "secrets-manager", "exported-variables"];
    private static readonly string[] Phases = ["install", "pre_build", "build", "post_build"];
    private int _buildNumber;

    /// <summary>The S3 cache every project of this pipeline shares (one bucket location).</summary>
    public CodeBuildCache Cache { get; } = new(machine);

    public Dictionary<string, string> Parameters { get; } = new(StringComparer.Ordinal);
    /// <summary>Variables of the build host's own environment (where the sandbox registries are), under CodeBuild's.</summary>
    public Dictionary<string, string> MachineEnvironment { get; } = new(StringComparer.Ordinal);
    /// <summary>Secrets Manager: "secret-id:json-key" to value.</summary>
    public Dictionary<string, string> SecretsManager { get; } = new(StringComparer.Ordinal);
    public string Region { get; init; } = "eu-west-1";
    public string AccountId { get; init; } = "123456789012";
    public string StackName { get; init; } = "sample-app";
    public Func<string, string, Task>? OnApproval { get; set; }

    public async Task<PipelineExecution> RunAsync(string commit, CancellationToken ct)
    {
        var template = new CloudFormationTemplate(Path.Combine(sourceRoot, "deploy", "aws", "pipeline.yml"), Parameters, new Dictionary<string, string>
        {
            ["AWS::Region"] = Region, ["AWS::AccountId"] = AccountId, ["AWS::StackName"] = StackName, ["AWS::Partition"] = "aws",
        });
        var (_, pipeline) = template.OfType("AWS::CodePipeline::Pipeline").Single();
        var pipelineName = template.Text(pipeline["Name"]);
        if (template.Text(pipeline["PipelineType"]) != "V2") throw new RunnerException("only PipelineType V2 is implemented");
        var execution = new PipelineExecution();
        var artifacts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var stageNode in (List<object?>)pipeline["Stages"]!)
        {
            var stage = CloudFormationTemplate.Map(stageNode);
            var actions = ((List<object?>)stage["Actions"]!).Select(CloudFormationTemplate.Map).OrderBy(a => int.Parse(template.Text(a["RunOrder"])));
            foreach (var action in actions)
            {
                var type = CloudFormationTemplate.Map(action["ActionTypeId"]);
                var provider = template.Text(type["Provider"]);
                var run = new StageRun(template.Text(stage["Name"]), template.Text(action["Name"]), provider);
                execution.Stages.Add(run);
                var configuration = action.TryGetValue("Configuration", out var c) ? CloudFormationTemplate.Map(template.Resolve(c)) : new Dictionary<string, object?>();
                string Config(string key) => Variables(configuration.TryGetValue(key, out var v) ? v as string ?? "" : "", execution);
                var inputs = action.TryGetValue("InputArtifacts", out var ins) ? ((List<object?>)ins!).Select(i => template.Text(CloudFormationTemplate.Map(i)["Name"])).ToList() : [];
                var outputs = action.TryGetValue("OutputArtifacts", out var outs) ? ((List<object?>)outs!).Select(o => template.Text(CloudFormationTemplate.Map(o)["Name"])).ToList() : [];
                Dictionary<string, string> exported;
                switch (provider)
                {
                    case "CodeStarSourceConnection":
                        if (Config("OutputArtifactFormat") != "CODE_ZIP") throw new RunnerException("only the CODE_ZIP source format is implemented");
                        var source = machine.NewDirectory($"source-{commit[..8]}");
                        // CODE_ZIP: the commit's files, no .git.
                        await (Cli.Wrap("git").WithArguments(["-C", machine.OriginPath, "archive", "--format=tar", commit])
                               | Cli.Wrap("tar").WithArguments(["-x", "-C", source])).ExecuteAsync(ct);
                        artifacts[outputs.Single()] = source;
                        exported = new Dictionary<string, string>
                        {
                            ["CommitId"] = commit, ["BranchName"] = Config("BranchName"), ["FullRepositoryName"] = Config("FullRepositoryId"),
                            ["ConnectionArn"] = Config("ConnectionArn"), ["CommitMessage"] = "the commit under test",
                        };
                        run.Log.AppendLine($"source {Config("FullRepositoryId")}@{Config("BranchName")} = {commit}");
                        run.Succeeded = true;
                        break;
                    case "CodeBuild":
                        exported = await RunCodeBuildAsync(template, pipelineName, commit, run, Config("ProjectName"), Config("PrimarySource"),
                            configuration.TryGetValue("EnvironmentVariables", out var ev) ? Config("EnvironmentVariables") : null, inputs, outputs, artifacts, ct);
                        break;
                    case "Manual":
                        // The approver's decision: this runner approves at once.
                        run.ApprovalMessage = Config("CustomData");
                        run.Log.AppendLine($"approval requested (topic {Config("NotificationArn")}): {run.ApprovalMessage}; approved (runner no-op)");
                        if (OnApproval is not null) await OnApproval(run.Stage, run.ApprovalMessage);
                        exported = [];
                        run.Succeeded = true;
                        break;
                    default:
                        throw new RunnerException($"action provider {provider} is not implemented by this runner");
                }
                foreach (var (key, value) in exported) run.Exported[key] = value;
                if (action.TryGetValue("Namespace", out var ns)) execution.Variables[template.Text(ns)] = exported;
                TestContext.Out.WriteLine($"[pipeline / {run.Stage}] {(run.Succeeded ? "Succeeded" : "Failed")}\n{run.Log}");
                if (!run.Succeeded) return execution;
            }
        }
        return execution;
    }

    private async Task<Dictionary<string, string>> RunCodeBuildAsync(CloudFormationTemplate template, string pipelineName, string commit, StageRun run,
        string projectName, string primarySource, string? actionVariables, List<string> inputs, List<string> outputs, Dictionary<string, string> artifacts, CancellationToken ct)
    {
        var (projectId, project) = template.OfType("AWS::CodeBuild::Project").SingleOrDefault(p => template.Text(p.Properties["Name"]) == projectName);
        if (project is null) throw new RunnerException($"no CodeBuild project named {projectName}");
        var source = CloudFormationTemplate.Map(project["Source"]);
        if (template.Text(source["Type"]) != "CODEPIPELINE") throw new RunnerException($"{projectId}: only Source Type CODEPIPELINE is implemented");
        var environment = CloudFormationTemplate.Map(project["Environment"]);
        run.Project = projectName;
        run.Privileged = environment.TryGetValue("PrivilegedMode", out var privileged) && template.Text(privileged) == "true";
        if (inputs.Count > 1 && primarySource.Length == 0) throw new RunnerException($"{run.Action}: several input artifacts need PrimarySource");
        var primary = primarySource.Length > 0 ? primarySource : inputs.Single();

        var root = machine.NewDirectory($"codebuild-{run.Stage}");
        var srcDir = Path.Combine(root, "src");
        run.SourceDirectory = srcDir;
        RunnerMachine.CopyDirectory(artifacts[primary], srcDir);
        await machine.RestoreModuleAsync(srcDir, commit, ct);
        var buildId = $"{projectName}:{Guid.NewGuid()}";
        run.BuildId = buildId;
        var env = machine.BaseEnvironment(root);
        foreach (var (key, value) in MachineEnvironment) env[key] = value;
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["CODEBUILD_BUILD_ID"] = buildId, ["CODEBUILD_BUILD_ARN"] = $"arn:aws:codebuild:{Region}:{AccountId}:build/{buildId}",
            ["CODEBUILD_BUILD_NUMBER"] = (++_buildNumber).ToString(), ["CODEBUILD_BUILD_SUCCEEDING"] = "1", ["CODEBUILD_CI"] = "true",
            ["CODEBUILD_BUILD_URL"] = $"https://{Region}.console.aws.amazon.com/codebuild/home?region={Region}#/builds/{Uri.EscapeDataString(buildId)}/view/new",
            ["CODEBUILD_BUILD_IMAGE"] = template.Text(environment["Image"]), ["CODEBUILD_INITIATOR"] = $"codepipeline/{pipelineName}",
            ["CODEBUILD_RESOLVED_SOURCE_VERSION"] = commit, ["CODEBUILD_SOURCE_VERSION"] = $"arn:aws:s3:::artifacts/{pipelineName}/{primary}/{commit[..7]}.zip",
            ["CODEBUILD_SRC_DIR"] = srcDir, ["CODEBUILD_KMS_KEY_ID"] = $"arn:aws:kms:{Region}:{AccountId}:alias/aws/s3",
            ["CODEBUILD_START_TIME"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(),
            ["AWS_REGION"] = Region, ["AWS_DEFAULT_REGION"] = Region,
        })
            env[key] = value;
        foreach (var secondary in inputs.Where(i => i != primary))
        {
            var dir = Path.Combine(root, "src_" + secondary);
            RunnerMachine.CopyDirectory(artifacts[secondary], dir);
            env["CODEBUILD_SRC_DIR_" + secondary] = dir;
        }

        // The buildspec comes from the primary source, as CodeBuild reads it.
        var buildspecPath = Path.Combine(srcDir, template.Text(source["BuildSpec"]));
        var spec = Map(new DeserializerBuilder().Build().Deserialize<object>(await File.ReadAllTextAsync(buildspecPath, ct)), buildspecPath);
        foreach (var key in spec.Keys.Cast<string>()) if (!BuildspecKeys.Contains(key)) throw new RunnerException($"{buildspecPath}: '{key}' is not implemented");
        if (Text(spec, "version") != "0.2") throw new RunnerException($"{buildspecPath}: only version 0.2 is implemented");
        var specEnv = Map(spec["env"], "env");
        foreach (var key in specEnv.Keys.Cast<string>()) if (!EnvKeys.Contains(key)) throw new RunnerException($"{buildspecPath}: env.{key} is not implemented");
        if (Text(specEnv, "shell") != "bash") throw new RunnerException($"{buildspecPath}: env.shell must be bash for this runner");
        // Precedence: the action's variables, then the project's, then the buildspec's.
        if (specEnv.TryGetValue("variables", out var vars)) foreach (var (k, v) in Map(vars, "variables")) env[(string)k] = v?.ToString() ?? "";
        if (environment.TryGetValue("EnvironmentVariables", out var projectVars))
            foreach (var item in (List<object?>)template.Resolve(projectVars)!)
            {
                var variable = CloudFormationTemplate.Map(item);
                env[template.Text(variable["Name"])] = template.Text(variable["Value"]);
            }
        if (actionVariables is not null)
            foreach (var item in JsonNode.Parse(actionVariables)!.AsArray())
            {
                if ((string?)item!["type"] is not (null or "PLAINTEXT")) throw new RunnerException("only PLAINTEXT action variables are implemented");
                env[(string)item["name"]!] = (string)item["value"]!;
            }
        var masks = new List<string>();
        if (specEnv.TryGetValue("secrets-manager", out var secrets))
            foreach (var (k, v) in Map(secrets, "secrets-manager"))
            {
                if (!SecretsManager.TryGetValue(v?.ToString() ?? "", out var secret))
                {
                    run.Log.AppendLine($"Phase DOWNLOAD_SOURCE/PROVISIONING failed: Secrets Manager secret {v} not found");
                    return [];
                }
                env[(string)k] = secret;
                masks.Add(secret);
            }
        var cache = await RestoreCacheAsync(template, project, spec, srcDir, root, env, run, buildspecPath, ct);
        if (cache is not null) await machine.RestoreModuleAsync(srcDir, commit, ct);
        var exportedNames = specEnv.TryGetValue("exported-variables", out var ex) ? ((List<object?>)ex!).Select(x => x!.ToString()!).ToList() : [];

        var phases = Map(spec["phases"], "phases");
        foreach (var key in phases.Keys.Cast<string>()) if (!Phases.Contains(key)) throw new RunnerException($"{buildspecPath}: phase {key} is not implemented");
        if (phases.ContainsKey("post_build")) throw new RunnerException($"{buildspecPath}: post_build is not implemented by this runner");
        // install: the SDK download of a fresh CodeBuild container. This machine has the SDK; the phase is skipped.
        run.Log.AppendLine("phase INSTALL: skipped by the runner (the machine's .NET SDK is used)");
        var script = new StringBuilder();
        foreach (var phase in new[] { "pre_build", "build" })
        {
            if (!phases.TryGetValue(phase, out var p)) continue;
            var map = Map(p, phase);
            foreach (var key in map.Keys.Cast<string>()) if (key != "commands") throw new RunnerException($"{buildspecPath}: {phase}.{key} is not implemented");
            foreach (var command in (List<object?>)map["commands"]!)
            {
                var text = command!.ToString()!;
                // Each command runs in the same shell (buildspec 0.2); the first that fails ends the build.
                script.Append("echo '[Container] Running command ").Append(text.Replace("'", "'\\''")).Append("'\n")
                    .Append(text).Append('\n')
                    .Append("__rc=$?; if [ $__rc -ne 0 ]; then echo \"[Container] Command did not exit successfully, exit status $__rc\"; exit $__rc; fi\n");
            }
        }
        var exportFile = Path.Combine(root, "exported.env");
        foreach (var name in exportedNames)
            script.Append($"if [ -z \"${{{name}+x}}\" ]; then echo '[Container] exported variable {name} is not set'; exit 97; fi; printf '%s=%s\\0' {name} \"${name}\" >> '{exportFile}'\n");
        var scriptPath = Path.Combine(root, "buildspec.sh");
        await File.WriteAllTextAsync(scriptPath, script.ToString(), ct);
        void Log(string line) { lock (run) run.Log.AppendLine(Mask(line, masks.Append(env.GetValueOrDefault("REGISTRY_PASSWORD") ?? ""))); }
        var exit = await machine.BashAsync([scriptPath], srcDir, env, Log, Log, TimeSpan.FromMinutes(10), ct);
        await machine.SaveModuleAsync(srcDir, commit, ct);
        var builds = machine.Builds.Count(b => b.StartsWith(buildId + "\t", StringComparison.Ordinal));
        if (builds > 0 && !run.Privileged)
        {
            run.Log.AppendLine($"runner: {projectName} built an image without PrivilegedMode, which CodeBuild's container cannot do");
            return [];
        }
        if (exit != 0)
        {
            run.Log.AppendLine($"Phase BUILD State: FAILED (exit {exit})");
            return [];
        }
        if (cache is { } c) Cache.Save(c.Key, c.Paths, srcDir, run.Log);
        var exported = new Dictionary<string, string>(StringComparer.Ordinal);
        if (File.Exists(exportFile))
        {
            foreach (var entry in (await File.ReadAllTextAsync(exportFile, ct)).Split('\0').Where(e => e.Length > 0))
                exported[entry[..entry.IndexOf('=')]] = entry[(entry.IndexOf('=') + 1)..];
        }
        // The artifacts phase: the files matched by artifacts.files, with their paths, as the output artifact.
        var artifactSpec = Map(spec["artifacts"], "artifacts");
        foreach (var key in artifactSpec.Keys.Cast<string>()) if (key != "files") throw new RunnerException($"{buildspecPath}: artifacts.{key} is not implemented");
        if (outputs.Count > 0)
        {
            var matcher = new Matcher(StringComparison.Ordinal);
            foreach (var pattern in (List<object?>)artifactSpec["files"]!) matcher.AddInclude(pattern!.ToString()!);
            var files = matcher.Execute(new DirectoryInfoWrapper(new DirectoryInfo(srcDir))).Files.ToList();
            if (files.Count == 0)
            {
                run.Log.AppendLine("Phase UPLOAD_ARTIFACTS State: FAILED: CLIENT_ERROR: no matching artifact paths found");
                return [];
            }
            var output = machine.NewDirectory($"artifact-{outputs.Single()}");
            foreach (var file in files)
            {
                var target = Path.Combine(output, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(Path.Combine(srcDir, file.Path), target);
            }
            artifacts[outputs.Single()] = output;
        }
        run.Succeeded = true;
        return exported;
    }

    /// <summary>
    /// The buildspec's cache: the project must have an S3 cache (else CodeBuild caches nothing); the key and fallback keys
    /// are evaluated by the build's shell with codebuild-hash-files on PATH; the entry is restored before the install phase.
    /// Returns the key and paths to save after a successful build, or null when nothing is cached.
    /// </summary>
    private async Task<(string Key, IReadOnlyList<string> Paths)?> RestoreCacheAsync(CloudFormationTemplate template, Dictionary<string, object?> project,
        Dictionary<object, object?> spec, string srcDir, string root, Dictionary<string, string> env, StageRun run, string buildspecPath, CancellationToken ct)
    {
        if (!spec.TryGetValue("cache", out var c)) return null;
        var cacheSpec = Map(c, "cache");
        foreach (var key in cacheSpec.Keys.Cast<string>())
            if (key is not ("key" or "fallback-keys" or "paths")) throw new RunnerException($"{buildspecPath}: cache.{key} is not implemented");
        var paths = ((List<object?>)cacheSpec["paths"]!).Select(p => p!.ToString()!).ToArray();
        _ = paths.Select(CodeBuildCache.Directory).ToArray();
        var projectCache = project.TryGetValue("Cache", out var pc) ? CloudFormationTemplate.Map(pc) : null;
        if (projectCache is null || template.Text(projectCache["Type"]) == "NO_CACHE")
        {
            run.Log.AppendLine("[Container] cache: the project has no cache configured; nothing restored or saved");
            return null;
        }
        if (template.Text(projectCache["Type"]) != "S3" || !projectCache.ContainsKey("Location"))
            throw new RunnerException($"{run.Project}: a buildspec cache key needs the project's Cache Type S3 with a Location (LOCAL caches have no keys)");
        var bin = Directory.CreateDirectory(Path.Combine(root, "codebuild-bin")).FullName;
        var tool = Path.Combine(bin, "codebuild-hash-files");
        await File.WriteAllTextAsync(tool, CodeBuildCache.HashFilesTool, ct);
        File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        env["PATH"] = bin + ":" + env["PATH"];
        async Task<string> EvaluateAsync(string text)
        {
            var output = new StringBuilder();
            var exit = await machine.BashAsync(["-c", "printf '%s' \"" + text.Replace("\"", "\\\"") + "\""], srcDir, env, line => output.Append(line), line => run.Log.AppendLine(line), TimeSpan.FromMinutes(1), ct);
            if (exit != 0 || output.Length == 0) throw new RunnerException($"{buildspecPath}: cache key '{text}' did not evaluate (exit {exit})");
            return output.ToString();
        }
        var primary = await EvaluateAsync(Text(cacheSpec, "key") ?? throw new RunnerException($"{buildspecPath}: cache.paths without cache.key is not implemented"));
        var fallbacks = new List<string>();
        if (cacheSpec.TryGetValue("fallback-keys", out var f))
            foreach (var k in (List<object?>)f!) fallbacks.Add(await EvaluateAsync(k!.ToString()!));
        run.CacheKey = primary;
        run.CacheRestored = Cache.Restore(primary, fallbacks, srcDir, run.Log);
        return (primary, paths);
    }

    /// <summary>Resolves #{Namespace.VAR} as CodePipeline does before the action starts; an unknown one fails the execution.</summary>
    private static string Variables(string text, PipelineExecution execution) => Regex.Replace(text, @"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}", m =>
        execution.Variables.TryGetValue(m.Groups[1].Value, out var ns) && ns.TryGetValue(m.Groups[2].Value, out var value)
            ? value
            : throw new RunnerException($"{m.Value}: no earlier action exported it (CodePipeline fails the execution)"));
}
