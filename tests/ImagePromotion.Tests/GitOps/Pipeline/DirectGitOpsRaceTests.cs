using System.Text.RegularExpressions;
using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Execution;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Gates.Pipeline;
using ImagePromotion.Tests.GitOps.Git;
using ImagePromotion.Tests.Infrastructure;
using ImagePromotion.Tests.Scanning;

namespace ImagePromotion.Tests.GitOps.Pipeline;

/// <summary>
/// Two promotions of one application into one direct-mode GitOps environment at once, with different digests,
/// against one real registry (behind a fault proxy) and one real git remote: one wins, the other exits non-zero
/// naming the winner, and the production tag and the manifest on main end on the same digest.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class DirectGitOpsRaceTests
{
    private const string Manifest = "apps/web/staging/deployment.yaml";
    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private FaultProxy _proxy = null!;
    private BareRemote _remote = null!;
    private string _directory = null!;
    private int _n;

    [OneTimeSetUp]
    public async Task Start()
    {
        _dev = await RegistryServer.StartAsync();
        _prod = await RegistryServer.StartAsync();
        _proxy = await FaultProxy.StartAsync(_prod);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _proxy.DisposeAsync();
        await _dev.DisposeAsync();
        await _prod.DisposeAsync();
    }

    [SetUp]
    public void NewRemote()
    {
        _remote = new BareRemote();
        _directory = Directory.CreateTempSubdirectory("gitrace-").FullName;
    }

    [TearDown]
    public void DeleteRemote()
    {
        _proxy.ClearFaults();
        _remote.Dispose();
        try { Directory.Delete(_directory, true); } catch (IOException) { }
    }

    private string Yaml(string repository, string mode = "direct") => $$"""
        service: app
        registries:
          dev: { host: {{_dev.Host}}, insecure: true }
          prod: { host: {{_proxy.Host}}, insecure: true }
        environments:
          dev: { registry: dev, repository: {{repository}}, tag: "git-{commit}", tagMayMove: false }
          staging: { registry: dev, repository: {{repository}}, tag: staging }
          production:
            registry: prod
            repository: {{repository}}
            tag: production
            gitops: { repository: "{{_remote.BarePath}}", manifests: [{{Manifest}}], container: web, mode: {{mode}} }
        release: { environment: production, tagPrefix: release- }
        """;

    /// <summary>A session of its own (artifacts, GitOps clone), as a separate CI job has.</summary>
    private PromotionSession Session(string yaml, MemoryLog? log = null)
    {
        var config = ConfigLoader.Parse(yaml, Path.Combine(_directory, "promotion.yaml"), _directory);
        return PromotionSession.Create(config, new SessionOptions
        {
            Commit = PipelineSandbox.Commit, Identity = "ada", ArtifactsDirectory = Path.Combine(_directory, "artifacts-" + Guid.NewGuid().ToString("N")[..8]),
            Environment = new Dictionary<string, string?>(),
        }, log ?? new MemoryLog());
    }

    private string NewRepository() => $"race{Interlocked.Increment(ref _n)}/app";

    private Task<Digest> PushDevAsync(string repository, string tag) =>
        PipelineSandbox.PushImageAsync(_dev, repository, tag, new LayerBuilder().File("srv/www/index.html", Guid.NewGuid().ToString()));

    /// <summary>A repository of its own for one test, its configuration, and two builds in dev to promote.</summary>
    private async Task<(string Repository, string Yaml, Digest A, Digest B)> TwoBuildsAsync()
    {
        var repository = NewRepository();
        return (repository, Yaml(repository), await PushDevAsync(repository, "a"), await PushDevAsync(repository, "b"));
    }

    private async Task<Digest?> ProductionTagAsync(string repository)
    {
        using var client = _prod.CreateClient();
        return (await client.HeadManifestAsync(repository, "production"))?.Digest;
    }

    private string PinnedOnMain() => Regex.Match(_remote.Show("main", Manifest), @"image: \S+@(sha256:[0-9a-f]{64})").Groups[1].Value;

    private Task<PromotionPlan> PlanAsync(PromotionSession session, Digest digest) =>
        new ReleasePlanner(session).PlanPromotionAsync(new ReleaseSelection { Digest = digest }, session.Config.Targets("production"), "staging", null, CancellationToken.None);

    /// <summary>Executes <paramref name="plan"/> until its GitOps commit is pushed and pauses before the tag moves; resume with the source.</summary>
    private static async Task<(Task<PhaseOutcome> Run, TaskCompletionSource Resume)> ExecuteUntilTagMovesAsync(PromotionSession session, PromotionPlan plan)
    {
        var pushed = new TaskCompletionSource();
        var resume = new TaskCompletionSource();
        var run = new PlanExecutor(session)
        {
            Checkpoint = async (point, ct) =>
            {
                if (point != ExecutionPoint.BeforeTagMoves) return;
                pushed.SetResult();
                await resume.Task.WaitAsync(ct);
            },
        }.ExecuteAsync(plan, CancellationToken.None);
        await Task.WhenAny(pushed.Task, run);
        if (run.IsCompleted) await run;
        return (run, resume);
    }

    /// <summary>PromoteProduction of <paramref name="digest"/>: null when it succeeded, else its one-line error.</summary>
    private static async Task<string?> RunAsync(PromotionSession session, Digest digest)
    {
        try
        {
            (await new PromotionPipeline(session).PromoteAsync(new ReleaseSelection { Digest = digest }, "production", null, "staging", null, CancellationToken.None)).ThrowIfRefused();
            return null;
        }
        catch (PromotionException ex) { return ex.Message; }
    }

    /// <summary>The same through the planner and the executor, waiting at <paramref name="meet"/> for the other run (up to 10 s) so both reach Git together.</summary>
    private async Task<string?> RunMeetingAsync(PromotionSession session, Digest digest, Func<ExecutionPoint, CancellationToken, Task> meet)
    {
        try
        {
            (await new PlanExecutor(session) { Checkpoint = meet }.ExecuteAsync(await PlanAsync(session, digest), CancellationToken.None)).ThrowIfRefused();
            return null;
        }
        catch (PromotionException ex) { return ex.Message; }
    }

    /// <summary>A meeting point for two runs before their GitOps step: the first to arrive waits for the second.</summary>
    private static Func<ExecutionPoint, CancellationToken, Task> BeforeGitOpsTogether()
    {
        var arrived = 0;
        var both = new TaskCompletionSource();
        return async (point, ct) =>
        {
            if (point != ExecutionPoint.BeforeGitOps) return;
            if (Interlocked.Increment(ref arrived) == 2) both.SetResult();
            await Task.WhenAny(both.Task, Task.Delay(TimeSpan.FromSeconds(10), ct));
        };
    }

    [Test]
    public async Task Two_promotions_started_together_end_with_the_tag_and_main_on_one_digest_and_the_loser_naming_it()
    {
        for (var round = 0; round < 8; round++)
        {
            var (repository, yaml, a, b) = await TwoBuildsAsync();
            using var sa = Session(yaml);
            using var sb = Session(yaml);

            // Even rounds meet before Git (both planned on the same main and tag); odd rounds run free.
            var meet = BeforeGitOpsTogether();
            var results = round % 2 == 0
                ? await Task.WhenAll(Task.Run(() => RunMeetingAsync(sa, a, meet)), Task.Run(() => RunMeetingAsync(sb, b, meet)))
                : await Task.WhenAll(Task.Run(() => RunAsync(sa, a)), Task.Run(() => RunAsync(sb, b)));

            TestContext.Out.WriteLine($"round {round}: {string.Join(" / ", results.Select(r => r ?? "exit 0"))}");
            var tag = await ProductionTagAsync(repository);
            var pinned = PinnedOnMain();
            Assert.That(tag?.ToString(), Is.EqualTo(pinned), $"round {round}: the registry tag and main pin one digest ({string.Join(" / ", results)})");
            var winner = pinned == a.ToString() ? 0 : 1;
            Assert.That(pinned, Is.EqualTo(winner == 0 ? a.ToString() : b.ToString()), $"round {round}: one of the two digests");
            Assert.That(results[winner], Is.Null, $"round {round}: the run whose digest is live succeeded");
            if (round % 2 == 0)
                Assert.That(results[1 - winner], Is.Not.Null, $"round {round}: both planned on the same main, so one lost and says so");
            if (results[1 - winner] is { } lost)
                Assert.That(lost, Does.Contain(pinned), $"round {round}: the loser names the winner's digest");
        }
    }

    [Test]
    public async Task A_run_whose_commit_lands_second_stops_before_any_tag_moves_and_names_the_winner()
    {
        var (repository, yaml, a, b) = await TwoBuildsAsync();
        using var sa = Session(yaml);
        using var sb = Session(yaml);
        var planA = await PlanAsync(sa, a);
        var planB = await PlanAsync(sb, b);
        var (runA, resume) = await ExecuteUntilTagMovesAsync(sa, planA);
        // A's commit is on main, its tag not moved yet: B planned on the same main and tag as A did.
        var ex = Assert.ThrowsAsync<PromotionConflictException>(() => new PlanExecutor(sb).ExecuteAsync(planB, CancellationToken.None))!;
        var afterB = await ProductionTagAsync(repository);
        resume.SetResult();
        await runA;

        Assert.That(ex.Message, Does.StartWith($"promotion of {b} to production lost to another promotion: main of "));
        Assert.That(ex.Message, Does.Contain($"now pins {Manifest}: {_proxy.Host}/{repository}:production@{a}"));
        Assert.That(ex.Message, Does.Contain("No tag was moved"));
        Assert.That(afterB, Is.Null, "the loser moved no tag");
        Assert.That((await ProductionTagAsync(repository), PinnedOnMain()), Is.EqualTo((a, a.ToString())));
        Assert.That(_remote.Log("main", "%s").Split('\n'), Has.Exactly(1).StartsWith("Promote app to production"), "one promotion commit on main");
    }

    [Test]
    public async Task A_run_superseded_after_its_push_puts_the_tag_on_what_main_pins_and_fails_naming_it()
    {
        var (repository, yaml, a, b) = await TwoBuildsAsync();
        var logA = new MemoryLog();
        using var sa = Session(yaml, logA);
        var (runA, resume) = await ExecuteUntilTagMovesAsync(sa, await PlanAsync(sa, a));

        // B starts after A's commit landed and before A's tag moved: it plans on main pinning A, and wins outright.
        using var sb = Session(yaml);
        Assert.That(await RunAsync(sb, b), Is.Null);
        Assert.That((await ProductionTagAsync(repository), PinnedOnMain()), Is.EqualTo((b, b.ToString())));

        // A wakes up and moves the tag to A: then finds main pinning B, and puts the tag back on B.
        resume.SetResult();
        var ex = Assert.ThrowsAsync<PromotionConflictException>(async () => await runA)!;

        Assert.That(ex.Message, Does.StartWith($"promotion of {a} to production was superseded after its GitOps push: main of "));
        Assert.That(ex.Message, Does.Contain($"now pins {Manifest}: {_proxy.Host}/{repository}:production@{b}"));
        Assert.That(ex.Message, Does.Contain($"the registry follows it ({_proxy.Host}/{repository}:production -> {b})"));
        Assert.That((await ProductionTagAsync(repository), PinnedOnMain()), Is.EqualTo((b, b.ToString())));
        Assert.That(logA.Lines, Has.Some.Contains($"{_proxy.Host}/{repository}:production pointed at {a} while main pins {b}"));
    }

    [Test]
    public async Task A_tag_move_the_registry_refuses_puts_main_back_to_what_it_pinned()
    {
        var repository = NewRepository();
        var yaml = Yaml(repository);
        var a = await PushDevAsync(repository, "a");
        using (var first = Session(yaml)) Assert.That(await RunAsync(first, a), Is.Null);
        var b = await PushDevAsync(repository, "b");
        var mainBefore = _remote.Show("main", Manifest);
        // Copies by digest go through; the tag write is refused.
        _proxy.Inject("PUT", $"^/v2/{repository}/manifests/production$", FaultAction.Status(403), FaultProxy.Always);

        using var session = Session(yaml);
        var message = await RunAsync(session, b);

        Assert.That(message, Does.StartWith($"moving {_proxy.Host}/{repository}:production to {b} failed"));
        Assert.That(message, Does.Contain($"main of {_remote.BarePath} put back to {Manifest}: {_proxy.Host}/{repository}:production@{a}"));
        Assert.That(_remote.Show("main", Manifest), Is.EqualTo(mainBefore), "main pins A again, byte for byte");
        Assert.That(_remote.Log("main", "%s").Split('\n')[0], Does.StartWith("Revert \"Promote app to production"));
        Assert.That(await ProductionTagAsync(repository), Is.EqualTo(a));
    }

    [TestCase("direct")]
    [TestCase("pull-request")]
    public async Task Rollback_leaves_the_GitOps_change_pinning_the_rolled_back_digest(string mode)
    {
        var (repository, _, a, b) = await TwoBuildsAsync();
        var yaml = Yaml(repository, mode);
        using (var s = Session(yaml))
        {
            Assert.That(await RunAsync(s, a), Is.Null);
            await new PromotionPipeline(s).ReleaseTagAsync(new ReleaseSelection(), null, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        }
        using (var s = Session(yaml))
        {
            Assert.That(await RunAsync(s, b), Is.Null);
            await new PromotionPipeline(s).ReleaseTagAsync(new ReleaseSelection(), null, new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        }
        using var session = Session(yaml);
        var rollback = await new PromotionPipeline(session).RollbackAsync(new ReleaseSelection(), null, null, previous: true, null, CancellationToken.None);

        Assert.That(rollback.Plan.Releases.Single().RollbackTo, Is.EqualTo("release-20261101-000000"));
        Assert.That(await ProductionTagAsync(repository), Is.EqualTo(a));
        var gitops = rollback.Outcome!.Releases.Single().GitOps!;
        // Direct: the base branch; pull request: the promotion branch (the one its pull request shows).
        Assert.That(gitops.Branch, Is.EqualTo(mode == "direct" ? "main" : $"promote/production/app-{a.Encoded[..12]}"));
        Assert.That(_remote.Show(gitops.Branch, Manifest), Does.Contain($"image: {_proxy.Host}/{repository}:production@{a}"), "the GitOps change pins the rolled-back digest");
    }
}
