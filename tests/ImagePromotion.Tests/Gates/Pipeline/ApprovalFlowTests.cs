using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Execution;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Tests.GitOps.Git;
using ImagePromotion.Tests.Servers.GitHub;

namespace ImagePromotion.Tests.Gates.Pipeline;

/// <summary>
/// N-of-M approvals read from the promotion pull request: a first run opens the PR and refuses, approvals on the
/// head commit (and only those) let the re-run promote and merge.
/// </summary>
[TestFixture]
public sealed class ApprovalFlowTests
{
    private PipelineSandbox _sandbox = null!;
    private GitHubApiServer _github = null!;
    private BareRemote _remote = null!;
    private GitSmartHttpServer _git = null!;
    private Dictionary<string, string?> _env = null!;

    [SetUp]
    public async Task Start()
    {
        _sandbox = await PipelineSandbox.StartAsync();
        _github = await GitHubApiServer.StartAsync();
        _remote = new BareRemote();
        _github.AddRepository("acme", "gitops", _remote.BarePath);
        // The GitOps token goes to git too: serve the remote over smart HTTP, as GitHub does.
        _git = await GitSmartHttpServer.StartAsync(Path.GetDirectoryName(_remote.BarePath)!, ImagePromotion.GitOps.Git.GitCredentials.GitHubTokenUser, _github.Token);
        _env = new Dictionary<string, string?> { ["GH_TOKEN"] = _github.Token };
    }

    [TearDown]
    public async Task Stop()
    {
        await _sandbox.DisposeAsync();
        await _github.DisposeAsync();
        await _git.DisposeAsync();
        _remote.Dispose();
    }

    private string Yaml(string approvals) => _sandbox.Yaml(productionExtra: $$"""
            gitops:
              repository: {{_git.BaseUrl}}/gitops.git
              manifests: [apps/web/staging/deployment.yaml]
              container: web
              github: { owner: acme, repository: gitops, baseUrl: "{{_github.BaseUrl}}", tokenEnv: GH_TOKEN, autoMerge: true }
            gates:
              approvals: {{approvals}}
              rollback: [lock, approvals]
        """);

    private async Task<Digest> StageAsync(string yaml, string builder = "builder-bot")
    {
        var digest = await _sandbox.PushCleanDevImageAsync();
        using var session = _sandbox.Session(yaml, identity: builder, environment: _env);
        // The push record names the builder (PushDev writes it; here the image came from elsewhere, so record it the same way).
        await PipelineSandbox.RecordPushAsync(session, digest);
        Assert.That((await PipelineSandbox.PromoteAsync(session, "staging")).Refused, Is.False);
        return digest;
    }

    private async Task<ReleaseOutcome> PromoteProductionAsync(string yaml, string identity = "ada")
    {
        using var session = _sandbox.Session(yaml, identity: identity, environment: _env);
        return await PipelineSandbox.PromoteAsync(session, "production");
    }

    private async Task<Digest?> ProductionAsync()
    {
        using var raw = _sandbox.Prod.CreateClient();
        return (await raw.HeadManifestAsync("team/app", "production"))?.Digest;
    }

    [Test]
    public async Task Missing_approvals_open_the_pull_request_and_refuse_then_approvals_on_the_head_commit_promote_and_merge()
    {
        var yaml = Yaml("{ required: 2, approvers: [alice, bob, carol, ada, builder-bot] }");
        var digest = await StageAsync(yaml);
        var baseBefore = _remote.Head("main");

        var first = await PromoteProductionAsync(yaml);

        Assert.That(first.Refused, Is.True);
        Assert.That(first.Gates!.FailedGates.Single().Gate, Is.EqualTo("approvals"));
        var pr = _github.Pulls("acme", "gitops").Single();
        Assert.That(first.Record.PullRequestUrl, Does.EndWith("/pull/" + pr.Number));
        var ex = Assert.Throws<PromotionException>(() => first.ThrowIfRefused());
        Assert.That(ex!.Message, Does.Contain("approvals").And.Contain(first.Record.PullRequestUrl!));
        Assert.That(await ProductionAsync(), Is.Null, "nothing in the production registry");
        Assert.That(_remote.Head("main"), Is.EqualTo(baseBefore), "the GitOps base is unchanged");

        // An approval of an older commit, the requester's own and the builder's do not count.
        _github.AddReview("acme", "gitops", pr.Number, "alice", "APPROVED", commitId: new string('1', 40));
        _github.AddReview("acme", "gitops", pr.Number, "ada", "APPROVED", commitId: pr.HeadSha);
        _github.AddReview("acme", "gitops", pr.Number, "builder-bot", "APPROVED", commitId: pr.HeadSha);
        _github.AddReview("acme", "gitops", pr.Number, "bob", "APPROVED", commitId: pr.HeadSha);
        var second = await PromoteProductionAsync(yaml);
        Assert.That(second.Refused, Is.True);
        var reason = second.Gates!.FailedGates.Single().Reason;
        Assert.That(reason, Does.Contain("1 of 2").And.Contain("alice (approved older commit").And.Contain("ada (requester may not approve)")
            .And.Contain("builder-bot (image builder may not approve)"));
        Assert.That(await ProductionAsync(), Is.Null);

        _github.AddReview("acme", "gitops", pr.Number, "carol", "APPROVED", commitId: pr.HeadSha);
        var third = await PromoteProductionAsync(yaml);

        Assert.That(third.Refused, Is.False, third.Gates?.ToTable());
        Assert.That(await ProductionAsync(), Is.EqualTo(digest));
        Assert.That(third.GitOps!.Merged, Is.True, third.GitOps.MergeReason);
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Contain(digest.ToString()));
        Assert.That(third.Record.Approvals.Select(a => a.Login), Is.EquivalentTo(new[] { "bob", "carol" }));
        Assert.That(third.Record.Approvals, Has.All.Matches<ApprovalRecord>(a => a.CommitId == pr.HeadSha));

        using var transport = Evidence.EvidenceStoreTests.Transport(_sandbox.Prod);
        var approvals = await new ImagePromotion.Evidence.EvidenceStore(transport, new Logging.MemoryLog())
            .ReadVerifiedAsync(ImageReference.Parse($"{_sandbox.Prod.Host}/team/app@{digest}"), ImagePromotion.Evidence.EvidenceTypes.ApprovalDecision, CancellationToken.None);
        Assert.That(approvals, Has.Count.EqualTo(2), "each counted approval is evidence on the digest");
    }

    [Test]
    public async Task Approvals_need_a_pull_request_to_review_so_gitops_github_is_required()
    {
        var yaml = _sandbox.Yaml(productionExtra: """
                gates:
                  approvals: { required: 1 }
            """);
        await StageAsync(yaml);
        var ex = Assert.ThrowsAsync<PromotionException>(() => PromoteProductionAsync(yaml));
        Assert.That(ex!.Message, Does.Contain("environments.production.gitops.github is not configured"));
        Assert.That(await ProductionAsync(), Is.Null);
    }
}
