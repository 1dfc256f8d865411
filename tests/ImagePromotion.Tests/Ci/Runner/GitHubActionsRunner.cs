using System.Text;
using System.Text.Json.Nodes;
using YamlDotNet.Serialization;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>The event a workflow run is for, with the GITHUB_SHA/GITHUB_REF GitHub gives that event.</summary>
internal sealed record GitHubEvent(string Name, string Ref, string Sha, JsonObject Payload)
{
    /// <summary>A push of <paramref name="sha"/> to <paramref name="branch"/>: GITHUB_SHA is the pushed commit.</summary>
    public static GitHubEvent Push(string sha, string branch = "main") => new("push", "refs/heads/" + branch, sha, new JsonObject
    {
        ["ref"] = "refs/heads/" + branch, ["after"] = sha, ["head_commit"] = new JsonObject { ["id"] = sha },
    });

    /// <summary>
    /// A workflow_run event for a finished run. GITHUB_SHA and GITHUB_REF are the default branch's newest commit and
    /// ref at the time of the event (<paramref name="defaultBranchHead"/>), not the triggering run's head_sha.
    /// </summary>
    public static GitHubEvent WorkflowRun(WorkflowRunResult triggering, string defaultBranchHead, string defaultBranch = "main") =>
        new("workflow_run", "refs/heads/" + defaultBranch, defaultBranchHead, new JsonObject
        {
            ["action"] = "completed",
            ["workflow_run"] = new JsonObject
            {
                ["id"] = triggering.RunId, ["name"] = triggering.Name, ["event"] = triggering.Event, ["head_sha"] = triggering.HeadSha,
                ["head_branch"] = triggering.Branch, ["conclusion"] = triggering.Conclusion, ["status"] = "completed",
            },
        });

    /// <summary>A workflow_dispatch on <paramref name="branch"/> whose head is <paramref name="sha"/>, with the inputs a caller (Port) sent.</summary>
    public static GitHubEvent WorkflowDispatch(string sha, IReadOnlyDictionary<string, string> inputs, string branch = "main") =>
        new("workflow_dispatch", "refs/heads/" + branch, sha, new JsonObject
        {
            ["ref"] = "refs/heads/" + branch,
            ["inputs"] = new JsonObject(inputs.Select(i => KeyValuePair.Create(i.Key, (JsonNode?)JsonValue.Create(i.Value)))),
        });
}

internal sealed record StepResult(string Name, string? Id, string Outcome, IReadOnlyDictionary<string, string> Outputs);

internal sealed class JobResult(string id)
{
    public string Id { get; } = id;
    public string Result { get; set; } = "skipped";
    public Dictionary<string, string> Outputs { get; } = new(StringComparer.Ordinal);
    public List<StepResult> Steps { get; } = [];
    public StringBuilder Summary { get; } = new();
    public List<string> Annotations { get; } = [];
    public StringBuilder Log { get; } = new();
    public string? Environment { get; set; }
    public string? Workspace { get; set; }
}

internal sealed class WorkflowRunResult(string file, string name, long runId, GitHubEvent ev)
{
    public string File { get; } = file;
    public string Name { get; } = name;
    public long RunId { get; } = runId;
    public string Event => ev.Name;
    public string HeadSha => ev.Sha;
    public string Branch => ev.Ref.StartsWith("refs/heads/", StringComparison.Ordinal) ? ev.Ref["refs/heads/".Length..] : ev.Ref;
    public Dictionary<string, JobResult> Jobs { get; } = new(StringComparer.Ordinal);
    public string Conclusion => Jobs.Values.Any(j => j.Result == "failure") ? "failure" : "success";
    public JobResult this[string job] => Jobs[job];
    public override string ToString() => $"{File} ({Event}, run {RunId}): {Conclusion}\n"
        + string.Join("\n", Jobs.Values.Select(j => $"--- job {j.Id}: {j.Result}\n{j.Log}"));
}

/// <summary>
/// Runs a workflow of .github/workflows as GitHub Actions would on one ubuntu-latest runner: jobs in the order of
/// their <c>needs</c>, each in its own fresh work directory, its <c>run:</c> steps with <c>bash -e</c> and the
/// variables GitHub sets (GITHUB_*, RUNNER_*, the step's GITHUB_OUTPUT/GITHUB_ENV/GITHUB_PATH/GITHUB_STEP_SUMMARY
/// files), expressions evaluated (<see cref="Expressions"/>) and the actions the workflows use interpreted by
/// <see cref="GitHubActionSteps"/>. A key of the workflow syntax this runner does not implement fails the run.
/// A job in a protected environment does not wait: the required reviewers' approval is this runner's no-op, with
/// <see cref="OnApproval"/> as the moment a test may act (another run moving staging meanwhile, say).
/// </summary>
internal sealed class GitHubActionsRunner(RunnerMachine machine, string sourceRoot, string repository = "acme/sample-app")
{
    private static readonly HashSet<string> WorkflowKeys = ["name", "on", "permissions", "concurrency", "jobs"];
    private static readonly HashSet<string> JobKeys = ["runs-on", "timeout-minutes", "outputs", "steps", "needs", "if", "environment"];
    private static readonly HashSet<string> StepKeys = ["name", "id", "if", "env", "run", "uses", "with"];
    private static readonly TimeSpan JobLimit = TimeSpan.FromMinutes(10);
    private long _nextRunId = 7_000_000_001;

    public Dictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal);
    /// <summary>Variables of this runner machine's own environment (where the sandbox registries are), under GitHub's.</summary>
    public Dictionary<string, string> MachineEnvironment { get; } = new(StringComparer.Ordinal);
    /// <summary>Environments with required reviewers (Settings → Environments).</summary>
    public HashSet<string> ProtectedEnvironments { get; } = new(StringComparer.Ordinal);
    /// <summary>Called where a job waits for the reviewers of its protected environment; the runner itself approves at once.</summary>
    public Func<string, string, Task>? OnApproval { get; set; }
    public string Actor { get; set; } = "octocat";
    internal GitHubActionSteps Actions { get; } = new(machine);
    public string Repository => repository;

    public async Task<WorkflowRunResult> RunAsync(string workflowFile, GitHubEvent ev, CancellationToken ct)
    {
        var workflow = Map(new DeserializerBuilder().Build().Deserialize<object>(await File.ReadAllTextAsync(Path.Combine(sourceRoot, ".github", "workflows", workflowFile), ct)), workflowFile);
        CheckKeys(workflow, WorkflowKeys, workflowFile);
        var name = Text(workflow, "name") ?? workflowFile;
        var run = new WorkflowRunResult(workflowFile, name, Interlocked.Increment(ref _nextRunId), ev);
        var inputs = CheckTrigger(workflow, workflowFile, ev);
        var token = "ghs_runner" + Guid.NewGuid().ToString("N");
        var github = new JsonObject
        {
            ["event_name"] = ev.Name, ["event"] = ev.Payload.DeepClone(), ["sha"] = ev.Sha, ["ref"] = ev.Ref,
            ["ref_name"] = run.Branch, ["ref_type"] = "branch", ["repository"] = repository, ["repository_owner"] = repository.Split('/')[0],
            ["run_id"] = run.RunId.ToString(), ["run_number"] = "1", ["run_attempt"] = "1", ["actor"] = Actor, ["triggering_actor"] = Actor,
            ["workflow"] = name, ["server_url"] = "https://github.com", ["api_url"] = "https://api.github.com", ["token"] = token,
        };
        var permissions = workflow.TryGetValue("permissions", out var p) && p is Dictionary<object, object?> pm
            ? pm.ToDictionary(kv => (string)kv.Key, kv => kv.Value?.ToString() ?? "") : new Dictionary<string, string>();
        if (workflow.TryGetValue("concurrency", out var concurrency) && concurrency is Dictionary<object, object?> cm)
            Expressions.Interpolate(Text(cm, "group") ?? throw new RunnerException($"{workflowFile}: concurrency has no group"), Scope(github, inputs, new JsonObject(), new JsonObject()));

        var jobs = Map(workflow["jobs"], $"{workflowFile}: jobs");
        foreach (var jobId in Order(jobs, workflowFile))
        {
            var job = Map(jobs[jobId], $"{workflowFile}: jobs.{jobId}");
            var result = await RunJobAsync(run, jobId, job, github, inputs, permissions, token, ct);
            run.Jobs[jobId] = result;
            TestContext.Out.WriteLine($"[{workflowFile} / {jobId}] {result.Result}\n{result.Log}");
        }
        return run;
    }

    private async Task<JobResult> RunJobAsync(WorkflowRunResult run, string jobId, Dictionary<object, object?> job, JsonObject github,
        JsonObject inputs, IReadOnlyDictionary<string, string> permissions, string token, CancellationToken ct)
    {
        var where = $"{run.File}: jobs.{jobId}";
        CheckKeys(job, JobKeys, where);
        var result = new JobResult(jobId);
        var needs = Needs(job);
        var needsContext = new JsonObject();
        foreach (var need in needs)
        {
            var done = run.Jobs[need];
            needsContext[need] = new JsonObject
            {
                ["result"] = done.Result,
                ["outputs"] = new JsonObject(done.Outputs.Select(o => KeyValuePair.Create(o.Key, (JsonNode?)JsonValue.Create(o.Value)))),
            };
        }
        var needsFailed = needs.Any(n => run.Jobs[n].Result != "success");
        var jobGithub = (JsonObject)github.DeepClone();
        jobGithub["job"] = jobId;
        var scope = Scope(jobGithub, inputs, needsContext, new JsonObject()) with { JobFailed = needsFailed };
        if (!Expressions.Condition(Text(job, "if"), scope))
        {
            result.Log.AppendLine($"skipped: if: {Text(job, "if") ?? "success()"} is false");
            return result;
        }
        if (Text(job, "runs-on") != "ubuntu-latest") throw new RunnerException($"{where}: runs-on '{Text(job, "runs-on")}' is not implemented (ubuntu-latest is)");
        var timeout = int.TryParse(Text(job, "timeout-minutes"), out var minutes) ? TimeSpan.FromMinutes(minutes) : TimeSpan.FromMinutes(360);
        if (timeout > JobLimit) timeout = JobLimit;

        if (job.TryGetValue("environment", out var environment))
        {
            result.Environment = Expressions.Interpolate(environment as string ?? throw new RunnerException($"{where}: environment must be a name"), scope);
            if (ProtectedEnvironments.Contains(result.Environment))
            {
                // Required reviewers: on GitHub the job waits here until they approve. This runner approves at once.
                result.Log.AppendLine($"environment {result.Environment}: required reviewers approve (runner no-op)");
                if (OnApproval is not null) await OnApproval(jobId, result.Environment);
            }
        }

        var jobRoot = machine.NewDirectory($"{Path.GetFileNameWithoutExtension(run.File)}-{jobId}");
        var repoName = repository.Split('/')[1];
        var workspace = Directory.CreateDirectory(Path.Combine(jobRoot, "work", repoName, repoName)).FullName;
        var temp = Directory.CreateDirectory(Path.Combine(jobRoot, "temp")).FullName;
        result.Workspace = workspace;
        var eventPath = Path.Combine(temp, "event.json");
        await File.WriteAllTextAsync(eventPath, jobGithub["event"]!.ToJsonString(), ct);
        jobGithub["workspace"] = workspace;
        var env = machine.BaseEnvironment(jobRoot);
        foreach (var (key, value) in MachineEnvironment) env[key] = value;
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["GITHUB_ACTIONS"] = "true", ["GITHUB_ACTOR"] = Actor, ["GITHUB_TRIGGERING_ACTOR"] = Actor,
            ["GITHUB_API_URL"] = "https://api.github.com", ["GITHUB_SERVER_URL"] = "https://github.com", ["GITHUB_GRAPHQL_URL"] = "https://api.github.com/graphql",
            ["GITHUB_EVENT_NAME"] = run.Event, ["GITHUB_EVENT_PATH"] = eventPath, ["GITHUB_JOB"] = jobId,
            ["GITHUB_REF"] = (string)github["ref"]!, ["GITHUB_REF_NAME"] = run.Branch, ["GITHUB_REF_TYPE"] = "branch", ["GITHUB_REF_PROTECTED"] = "false",
            ["GITHUB_HEAD_REF"] = "", ["GITHUB_BASE_REF"] = "",
            ["GITHUB_REPOSITORY"] = repository, ["GITHUB_REPOSITORY_OWNER"] = repository.Split('/')[0], ["GITHUB_RETENTION_DAYS"] = "90",
            ["GITHUB_RUN_ID"] = run.RunId.ToString(), ["GITHUB_RUN_NUMBER"] = "1", ["GITHUB_RUN_ATTEMPT"] = "1", ["GITHUB_SHA"] = (string)github["sha"]!,
            ["GITHUB_WORKFLOW"] = run.Name, ["GITHUB_WORKFLOW_REF"] = $"{repository}/.github/workflows/{run.File}@{github["ref"]}",
            ["GITHUB_WORKFLOW_SHA"] = (string)github["sha"]!, ["GITHUB_WORKSPACE"] = workspace,
            ["RUNNER_OS"] = "Linux", ["RUNNER_ARCH"] = "X64", ["RUNNER_NAME"] = "GitHub Actions 1", ["RUNNER_ENVIRONMENT"] = "github-hosted",
            ["RUNNER_TEMP"] = temp, ["RUNNER_TOOL_CACHE"] = Directory.CreateDirectory(Path.Combine(jobRoot, "toolcache")).FullName,
            ["RUNNER_WORKSPACE"] = Path.Combine(jobRoot, "work", repoName),
        })
            env[key] = value;
        var masks = new List<string> { token };
        masks.AddRange(Secrets.Values.Where(v => v.Length > 0));
        var stepsContext = new JsonObject();
        var context = new StepContext(run, jobId, result, workspace, temp, token, permissions, masks);
        var failed = false;
        var index = 0;
        foreach (var stepNode in job.TryGetValue("steps", out var s) && s is List<object?> list ? list : throw new RunnerException($"{where}: no steps"))
        {
            var step = Map(stepNode, $"{where}.steps[{index}]");
            CheckKeys(step, StepKeys, $"{where}.steps[{index++}]");
            var stepScope = Scope(jobGithub, inputs, needsContext, stepsContext) with { JobFailed = failed };
            var id = Text(step, "id");
            var name = Text(step, "name") ?? Text(step, "uses") ?? Text(step, "run")!.Split('\n')[0];
            if (!Expressions.Condition(Text(step, "if"), stepScope))
            {
                result.Steps.Add(new StepResult(name, id, "skipped", new Dictionary<string, string>()));
                if (id is not null) stepsContext[id] = new JsonObject { ["outcome"] = "skipped", ["conclusion"] = "skipped", ["outputs"] = new JsonObject() };
                continue;
            }
            var stepEnv = new Dictionary<string, string>(env, StringComparer.Ordinal);
            if (step.TryGetValue("env", out var e) && e is Dictionary<object, object?> envMap)
                foreach (var (key, value) in envMap) stepEnv[(string)key] = Expressions.Interpolate(value?.ToString() ?? "", stepScope);
            result.Log.AppendLine($"▶ {Mask(Expressions.Interpolate(name, stepScope), masks)}");
            StepOutcome outcome;
            if (Text(step, "run") is { } script)
                outcome = await RunScriptAsync(Expressions.Interpolate(script, stepScope), stepEnv, context, timeout, ct);
            else
            {
                var with = step.TryGetValue("with", out var w) && w is Dictionary<object, object?> wm
                    ? wm.ToDictionary(kv => (string)kv.Key, kv => Expressions.Interpolate(kv.Value?.ToString() ?? "", stepScope)) : new Dictionary<string, string>();
                outcome = await Actions.RunAsync(Text(step, "uses") ?? throw new RunnerException($"{where}: a step with neither run nor uses"), with, context, ct);
            }
            foreach (var (key, value) in outcome.Env) env[key] = value;
            if (outcome.Path.Count > 0) env["PATH"] = string.Join(':', outcome.Path.Append(env["PATH"]));
            var state = outcome.Success ? "success" : "failure";
            failed |= !outcome.Success;
            result.Steps.Add(new StepResult(name, id, state, outcome.Outputs));
            if (id is not null)
                stepsContext[id] = new JsonObject
                {
                    ["outcome"] = state, ["conclusion"] = state,
                    ["outputs"] = new JsonObject(outcome.Outputs.Select(o => KeyValuePair.Create(o.Key, (JsonNode?)JsonValue.Create(o.Value)))),
                };
        }
        Actions.SaveCaches(context, failed);
        result.Result = failed ? "failure" : "success";
        if (Actions.CheckedOut.TryGetValue(workspace, out var head)) await machine.SaveModuleAsync(workspace, head, ct);
        if (job.TryGetValue("outputs", out var outputs) && outputs is Dictionary<object, object?> outputMap)
        {
            var outputScope = Scope(jobGithub, inputs, needsContext, stepsContext);
            foreach (var (key, value) in outputMap)
            {
                var text = Expressions.Interpolate(value?.ToString() ?? "", outputScope);
                // GitHub drops a job output that holds a secret ("Skip output since it may contain secret").
                if (masks.Any(m => text.Contains(m, StringComparison.Ordinal))) { result.Annotations.Add($"warning: skip output '{key}' since it may contain secret"); continue; }
                result.Outputs[(string)key] = text;
            }
        }
        return result;
    }

    internal sealed record StepOutcome(bool Success, IReadOnlyDictionary<string, string> Outputs, IReadOnlyDictionary<string, string> Env, IReadOnlyList<string> Path)
    {
        public static StepOutcome Done(bool success) => new(success, new Dictionary<string, string>(), new Dictionary<string, string>(), []);
    }

    /// <summary>What the actions of a job share: where it runs, its token and permissions, the values masked in its log.</summary>
    internal sealed record StepContext(WorkflowRunResult Run, string JobId, JobResult Job, string Workspace, string Temp, string Token,
        IReadOnlyDictionary<string, string> Permissions, List<string> Masks)
    {
        public void Log(string line) => Job.Log.AppendLine(Mask(line, Masks));
    }

    private async Task<StepOutcome> RunScriptAsync(string script, Dictionary<string, string> env, StepContext context, TimeSpan timeout, CancellationToken ct)
    {
        var commands = Directory.CreateDirectory(Path.Combine(context.Temp, "_runner_file_commands")).FullName;
        var suffix = Guid.NewGuid().ToString("N");
        var files = new Dictionary<string, string>
        {
            ["GITHUB_OUTPUT"] = Path.Combine(commands, "set_output_" + suffix), ["GITHUB_ENV"] = Path.Combine(commands, "set_env_" + suffix),
            ["GITHUB_PATH"] = Path.Combine(commands, "add_path_" + suffix), ["GITHUB_STEP_SUMMARY"] = Path.Combine(commands, "step_summary_" + suffix),
            ["GITHUB_STATE"] = Path.Combine(commands, "save_state_" + suffix),
        };
        foreach (var (key, file) in files) { await File.WriteAllTextAsync(file, "", ct); env[key] = file; }
        env["GITHUB_ACTION"] = "__run";
        var scriptPath = Path.Combine(context.Temp, suffix + ".sh");
        await File.WriteAllTextAsync(scriptPath, script, ct);
        string? badCommand = null;
        void Output(string line)
        {
            if (StepFiles.ParseCommand(line) is { } command)
            {
                switch (command.Command)
                {
                    case "add-mask": lock (context.Job) context.Masks.Add(command.Data); return;
                    case "error" or "warning" or "notice": lock (context.Job) context.Job.Annotations.Add($"{command.Command}: {Mask(command.Data, context.Masks)}"); break;
                    default:
                        if (!StepFiles.SupportedCommands.Contains(command.Command)) badCommand ??= Mask(line, context.Masks);
                        break;
                }
            }
            lock (context.Job) context.Log(line);
        }
        // GitHub's default shell for run on Linux: bash -e {0}.
        var exit = await machine.BashAsync(["-e", scriptPath], context.Workspace, env, Output, line => { lock (context.Job) context.Log(line); }, timeout, ct);
        if (badCommand is not null)
        {
            context.Log($"runner: the step printed a workflow command this runner does not accept (GitHub disables or ignores it): {badCommand}");
            return StepOutcome.Done(false);
        }
        context.Job.Summary.Append(await File.ReadAllTextAsync(files["GITHUB_STEP_SUMMARY"], ct));
        var path = (await File.ReadAllLinesAsync(files["GITHUB_PATH"], ct)).Where(l => l.Length > 0).Reverse().ToArray();
        if (exit != 0) context.Log($"Error: Process completed with exit code {exit}.");
        return new StepOutcome(exit == 0, StepFiles.ReadKeyValues(files["GITHUB_OUTPUT"]), StepFiles.ReadKeyValues(files["GITHUB_ENV"]), path);
    }

    /// <summary>Checks the workflow runs for the event (as GitHub's trigger filters would) and returns the inputs context.</summary>
    private static JsonObject CheckTrigger(Dictionary<object, object?> workflow, string file, GitHubEvent ev)
    {
        var on = Map(workflow["on"], $"{file}: on");
        if (!on.TryGetValue(ev.Name, out var trigger)) throw new RunnerException($"{file} does not run on {ev.Name}");
        var filter = trigger as Dictionary<object, object?> ?? new Dictionary<object, object?>();
        var branch = ev.Name == "workflow_run" ? (string)ev.Payload["workflow_run"]!["head_branch"]! : ev.Ref["refs/heads/".Length..];
        if (filter.TryGetValue("branches", out var branches) && !((List<object?>)branches!).Contains(branch))
            throw new RunnerException($"{file}: {ev.Name} on branch {branch} is filtered out by branches");
        if (ev.Name == "workflow_run")
        {
            var triggeredBy = (string)ev.Payload["workflow_run"]!["name"]!;
            if (!((List<object?>)filter["workflows"]!).Contains(triggeredBy)) throw new RunnerException($"{file}: workflow_run of '{triggeredBy}' is not in workflows");
            if (filter.TryGetValue("types", out var types) && !((List<object?>)types!).Contains("completed")) throw new RunnerException($"{file}: workflow_run types exclude completed");
        }
        var inputs = new JsonObject();
        if (ev.Name != "workflow_dispatch") return inputs;
        var given = ev.Payload["inputs"]!.AsObject();
        var declared = filter.TryGetValue("inputs", out var d) && d is Dictionary<object, object?> dm ? dm : new Dictionary<object, object?>();
        foreach (var extra in given.Select(g => g.Key).Where(k => !declared.ContainsKey(k)))
            throw new RunnerException($"{file}: workflow_dispatch got input '{extra}', which the workflow does not declare (GitHub answers 422)");
        foreach (var (key, spec) in declared)
        {
            var specMap = Map(spec, $"{file}: input {key}");
            if (Text(specMap, "type") is { } type && type != "string") throw new RunnerException($"{file}: input type {type} is not implemented");
            var value = given[(string)key]?.GetValue<string>() ?? Text(specMap, "default");
            if (value is null && Text(specMap, "required") == "true") throw new RunnerException($"{file}: required input '{key}' not given (GitHub answers 422)");
            inputs[(string)key] = value ?? "";
        }
        return inputs;
    }

    private Expressions.Scope Scope(JsonObject github, JsonObject inputs, JsonObject needs, JsonObject steps) => new(new JsonObject
    {
        ["github"] = github.DeepClone(), ["inputs"] = inputs.DeepClone(), ["needs"] = needs.DeepClone(), ["steps"] = steps.DeepClone(),
        ["secrets"] = new JsonObject(Secrets.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)JsonValue.Create(s.Value)))),
    });

    private static IReadOnlyList<string> Needs(Dictionary<object, object?> job) => job.TryGetValue("needs", out var needs)
        ? needs switch { string one => [one], List<object?> many => many.Select(n => (string)n!).ToArray(), _ => throw new RunnerException("needs must be a name or a list") }
        : [];

    private static IEnumerable<string> Order(Dictionary<object, object?> jobs, string file)
    {
        var done = new List<string>();
        var pending = jobs.Keys.Cast<string>().ToList();
        while (pending.Count > 0)
        {
            var ready = pending.FirstOrDefault(j => Needs(Map(jobs[j], j)).All(n =>
                jobs.ContainsKey(n) ? done.Contains(n) : throw new RunnerException($"{file}: job {j} needs unknown job {n}")))
                ?? throw new RunnerException($"{file}: the needs of {string.Join(", ", pending)} form a cycle");
            done.Add(ready);
            pending.Remove(ready);
        }
        return done;
    }

    private static void CheckKeys(Dictionary<object, object?> map, HashSet<string> known, string where)
    {
        foreach (var key in map.Keys.Cast<string>())
            if (!known.Contains(key)) throw new RunnerException($"{where}: '{key}' is not implemented by this runner");
    }

    internal static Dictionary<object, object?> Map(object? node, string where) =>
        node as Dictionary<object, object?> ?? throw new RunnerException($"{where}: expected a map");

    internal static string? Text(Dictionary<object, object?> map, string key) => map.TryGetValue(key, out var value) ? value?.ToString() : null;

    internal static string Mask(string text, IEnumerable<string> masks)
    {
        foreach (var mask in masks.Where(m => m.Length > 0).ToArray()) text = text.Replace(mask, "***", StringComparison.Ordinal);
        return text;
    }
}
