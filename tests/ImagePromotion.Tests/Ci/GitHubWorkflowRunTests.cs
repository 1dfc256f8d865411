using System.Text.Json.Nodes;
using ImagePromotion.Tests.Ci.Runner;
using ImagePromotion.Tests.Servers.Port;

namespace ImagePromotion.Tests.Ci;

/// <summary>
/// The shipped GitHub workflows run as GitHub would run them (<see cref="GitHubActionsRunner"/>), in order: build-push
/// on a push of commit C to main; promote-staging on its workflow_run after a later commit D landed (so GITHUB_SHA is D
/// while the build and the checkout are C); promote-production dispatched with Port's inputs for the digest Port
/// shows. Against registries with authentication, one digest built from C must be what dev, staging, production, the
/// release tag and Port's production entity hold; C is built exactly once; every production gate of the shipped
/// configuration passes on what the workflows themselves did (the scan included). The tests run in order on one world.
/// </summary>
[TestFixture, NonParallelizable, Order(950)]
public sealed class GitHubWorkflowRunTests
{
    private const string User = "ci-robot";
    private static readonly string Password = "ci-" + Guid.NewGuid().ToString("N");
    private static readonly string GitOpsToken = "ghp_" + Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(15));
    private RunnerMachine _machine = null!;
    private PipelineWorld _world = null!;
    private PortTestServer _port = null!;
    private GitHubActionsRunner _github = null!;
    private string _commit = null!;
    private string _later = null!;
    private WorkflowRunResult _build = null!;
    private string _digest = null!;

    private CancellationToken Ct => _cts.Token;

    [OneTimeSetUp]
    public async Task Start()
    {
        PipelineWorld.RequireTools();
        _machine = new RunnerMachine(Password);
        _world = await PipelineWorld.StartAsync(_machine, User, Password, Ct);
        _port = await PortTestServer.StartAsync();
        _commit = await _machine.CreateOriginAsync(RepositoryRoot.Path, Ct);
        (_commit, var signingKeys) = await PipelineWorld.SigningKeysAsync(_machine, Ct);
        _github = new GitHubActionsRunner(_machine, RepositoryRoot.Path);
        foreach (var (key, value) in _world.ConfigurationOverrides()) _github.MachineEnvironment[key] = value;
        // Port's API of this world (the workflow reads Port's default region otherwise).
        _github.MachineEnvironment["PORT_BASE_URL"] = _port.BaseUrl.ToString();
        _github.Secrets["REGISTRY_USERNAME"] = User;
        _github.Secrets["REGISTRY_PASSWORD"] = Password;
        _github.Secrets["GITOPS_TOKEN"] = GitOpsToken;
        _github.Secrets["PORT_CLIENT_ID"] = PortTestServer.ClientId;
        _github.Secrets["PORT_CLIENT_SECRET"] = PortTestServer.ClientSecret;
        foreach (var (variable, pem) in signingKeys) _github.Secrets[variable] = pem;
        _github.ProtectedEnvironments.Add("production");
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_port is not null) await _port.DisposeAsync();
        if (_world is not null) await _world.DisposeAsync();
        _machine?.Dispose();
        _cts.Dispose();
    }

    private int BuildsSoFar => _machine.Builds.Count;

    [Test, Order(1)]
    public async Task Build_push_on_a_push_to_main_builds_C_once_pushes_it_and_scans_it()
    {
        _build = await _github.RunAsync("build-push.yml", GitHubEvent.Push(_commit), Ct);
        Assert.That(_build.Conclusion, Is.EqualTo("success"), _build.ToString());
        Assert.That(_machine.Builds, Has.Count.EqualTo(1), "one build of C");
        Assert.That(_machine.Builds[0], Does.StartWith("build-push\t"));
        _digest = _build["build-push"].Outputs["digest"];
        Assert.That(_digest, Does.Match("^sha256:[0-9a-f]{64}$"));
        Assert.That(_build["build-push"].Outputs["image"], Is.EqualTo($"{_world.Dev.Host}/{PipelineWorld.Repository}:git-{_commit[..12]}@{_digest}"));
        Assert.That(await _world.DigestAsync(_world.Dev, $"git-{_commit[..12]}", Ct), Is.EqualTo(_digest));
        Assert.That(await _world.RevisionLabelAsync(_world.Dev, _digest, Ct), Is.EqualTo(_commit), "the image says which commit it was built from");
        Assert.That(_build["scan"].Outputs["digest"], Is.EqualTo(_digest), "the scan job scanned the pushed digest");
        Assert.That(File.ReadAllText(Path.Combine(_github.Actions.Artifact(_build.RunId, "pushed-image")!, "image.txt")).Trim(),
            Is.EqualTo(_build["build-push"].Outputs["image"]), "the artifact promote-staging reads");
        // The build job saved what later jobs would rebuild; the scan job restored it by the same keys.
        Assert.That(_github.Actions.Caches.Keys.Select(k => k.Split('-')[0]), Is.EquivalentTo(new[] { "nuget", "module" }));
        foreach (var key in _github.Actions.Caches.Keys)
            Assert.That(_build["scan"].Log.ToString(), Does.Contain($"Cache restored from key: {key}"));
        Assert.That(_github.Actions.Caches.Values.Single(c => c.Key.StartsWith("module-")).Paths, Is.EqualTo(new[] { ".artifacts/module", "build/.cake-cache" }));
    }

    [Test, Order(2)]
    public async Task Promote_staging_on_workflow_run_promotes_Cs_digest_although_GITHUB_SHA_is_a_later_commit()
    {
        // D lands on main while C's build runs: the workflow_run event carries GITHUB_SHA = D, head_sha = C.
        _later = await _machine.CommitOnMainAsync("LATER.md", "a later commit\n", Ct);
        var builds = BuildsSoFar;
        var run = await _github.RunAsync("promote-staging.yml", GitHubEvent.WorkflowRun(_build, _later), Ct);
        Assert.That(run.Conclusion, Is.EqualTo("success"), run.ToString());
        Assert.That(BuildsSoFar, Is.EqualTo(builds), "a promotion never builds");
        Assert.That(await _world.DigestAsync(_world.Dev, "staging", Ct), Is.EqualTo(_digest));
        Assert.That(await _world.DigestAsync(_world.Dev, $"git-{_later[..12]}", Ct), Is.Null, "nothing is pushed under the later commit's tag");
        var record = PipelineWorld.Journal(run["promote-staging"].Workspace!).Single();
        Assert.That((record.To, record.Digest, record.Commit), Is.EqualTo(("staging", _digest, _commit)), "the record names the commit that was built");
    }

    [Test, Order(3)]
    public async Task Promote_production_refuses_when_the_approved_plan_no_longer_holds()
    {
        var runId = "r_moved" + Guid.NewGuid().ToString("N")[..8];
        _port.CreateRun(runId);
        string? moved = null;
        // While the reviewers look at the plan, another promotion points staging elsewhere.
        _github.OnApproval = async (_, _) => moved = await _world.MoveStagingElsewhereAsync(Ct);
        try
        {
            var run = await _github.RunAsync("promote-production.yml", Dispatch(runId, _digest), Ct);
            Assert.That(run["plan"].Result, Is.EqualTo("success"), run.ToString());
            Assert.That(run["plan"].Outputs["digest"], Is.EqualTo(_digest));
            Assert.That(moved, Is.Not.Null.And.Not.EqualTo(_digest));
            Assert.That(run["promote-production"].Result, Is.EqualTo("failure"), run.ToString());
            Assert.That(run["promote-production"].Log.ToString(), Does.Contain("refused by gate(s): staging"));
            Assert.That(await _world.DigestAsync(_world.Prod, "production", Ct), Is.Null, "nothing was promoted");
            Assert.That(_port.Entity("running_service", "sample-app-production")?["relations"]?["image"]?.GetValue<string>(), Is.Not.EqualTo(_digest));
        }
        finally
        {
            _github.OnApproval = null;
            await _world.PointStagingAtAsync(_digest, Ct);
        }
    }

    [Test, Order(4)]
    public async Task Promote_production_plans_waits_promotes_exactly_the_planned_digest_tags_the_release_and_updates_Port()
    {
        var runId = "r_promote" + Guid.NewGuid().ToString("N")[..8];
        _port.CreateRun(runId);
        var builds = BuildsSoFar;
        string? summaryAtApproval = null;
        _github.OnApproval = (_, _) => { summaryAtApproval = "plan ran before the approval"; return Task.CompletedTask; };
        WorkflowRunResult run;
        try { run = await _github.RunAsync("promote-production.yml", Dispatch(runId, _digest), Ct); }
        finally { _github.OnApproval = null; }
        Assert.That(run.Conclusion, Is.EqualTo("success"), run.ToString());
        Assert.That(summaryAtApproval, Is.Not.Null, "the production job waited in the protected environment");
        Assert.That(BuildsSoFar, Is.EqualTo(builds), "a promotion never builds");

        // What the reviewers saw: the digest, the gate table and the GitOps diff.
        var plan = run["plan"];
        Assert.That(plan.Outputs["digest"], Is.EqualTo(_digest));
        var summary = plan.Summary.ToString();
        Assert.That(summary, Does.Contain(_digest));
        foreach (var gate in new[] { "conditions", "promotion-path", "environment-lock", "staging", "scan" })
            Assert.That(summary, Does.Contain($"| {gate} | ✅ passed"), summary);
        Assert.That(summary, Does.Contain($"+          image: {_world.Prod.Host}/{PipelineWorld.Repository}:production@{_digest}"), summary);

        // What moved: that digest, everywhere, and Port's entity.
        Assert.That(await _world.DigestAsync(_world.Prod, "production", Ct), Is.EqualTo(_digest));
        var (releaseTag, releaseDigest) = await _world.NewestReleaseAsync(Ct);
        Assert.That(releaseDigest, Is.EqualTo(_digest), releaseTag);
        Assert.That(_port.Entity("running_service", "sample-app-production")!["relations"]!["image"]!.GetValue<string>(), Is.EqualTo(_digest));
        Assert.That(_port.Run(runId)!.Status, Is.EqualTo("SUCCESS"));
        var record = PipelineWorld.Journal(run["promote-production"].Workspace!).Single(r => r.Kind == "promotion" && r.To == "production");
        Assert.That(record.Outcome, Is.EqualTo("promoted"));
        Assert.That(record.Gates.Select(g => g.Gate), Is.EquivalentTo(new[] { "conditions", "promotion-path", "environment-lock", "staging", "scan" }),
            "every gate of the shipped configuration was judged");
        Assert.That(record.Gates.Where(g => !g.Passed), Is.Empty, "and satisfied by what the workflows did");
        Assert.That(await _world.DigestAsync(_world.Dev, "staging", Ct), Is.EqualTo(_digest));
        Assert.That(await _world.DigestAsync(_world.Dev, $"git-{_commit[..12]}", Ct), Is.EqualTo(_digest));
        Assert.That(_machine.Builds, Has.Count.EqualTo(1), "C was built once in the whole chain");
    }

    /// <summary>What Port's action sends (deploy/port/promote-action.json): the entities as JSON, the digest it shows, the payload.</summary>
    private GitHubEvent Dispatch(string runId, string digest)
    {
        var staging = new JsonObject
        {
            ["identifier"] = "sample-app-staging", ["blueprint"] = "running_service",
            ["relations"] = new JsonObject { ["image"] = digest, ["service"] = "sample-app" },
        };
        var production = new JsonObject
        {
            ["identifier"] = "sample-app-production", ["blueprint"] = "running_service",
            ["properties"] = new JsonObject { ["gitPath"] = "apps/sample-app/production/deployment.yaml" },
        };
        _port.PutEntity("running_service", (JsonObject)production.DeepClone());
        return GitHubEvent.WorkflowDispatch(_later ?? _commit, new Dictionary<string, string>
        {
            ["entity"] = staging.ToJsonString(),
            ["production_runtime"] = production.ToJsonString(),
            ["digest"] = digest,
            ["auto_merge_pr"] = "false",
            ["port_payload"] = new JsonObject { ["runId"] = runId, ["blueprint"] = "running_service", ["trigger"] = new JsonObject() }.ToJsonString(),
        });
    }
}
