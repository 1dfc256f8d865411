using ImagePromotion.GitOps.Git;
using ImagePromotion.GitOps.Manifests;
using ImagePromotion.GitOps.PullRequests;
using ImagePromotion.Logging;
using ImagePromotion.Tests.GitOps.Git;
using ImagePromotion.Tests.Servers.GitHub;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.PullRequests;

/// <summary>git-clone → git-commit → git-push → git-open-pr → git-merge-pr, with a real git remote behind the fake GitHub.</summary>
[TestFixture]
public sealed class PromotionFlowTests
{
    private const string Source = "registry.example.com/web@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string Target = "registry.example.com/web@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
    private BareRemote _remote = null!;
    private GitHubApiServer _github = null!;
    private MemoryLog _log = null!;

    [SetUp]
    public async Task SetUp()
    {
        _remote = new BareRemote();
        _github = await GitHubApiServer.StartAsync();
        _github.AddRepository("acme", "gitops", _remote.BarePath);
        _log = new MemoryLog();
    }

    [TearDown]
    public async Task TearDown()
    {
        await _github.DisposeAsync();
        _remote.Dispose();
    }

    private static PromotionDescription Description() =>
        new("web", "staging", Source, Target, ["apps/web/staging/deployment.yaml"])
        {
            SourceEnvironment = "dev",
            RunUrl = "https://ci.example.com/runs/42",
            TriggeredBy = "ada",
        };

    private async Task<(GitPublishResult Push, PullRequestResult Pr)> PromoteAsync(string workDir, MergeMethod? autoMerge)
    {
        var description = Description();
        var branch = PromotionBranch.For(description.Environment, description.Service, description.Digest);
        var push = await new GitPublisher(_log).PublishAsync(
            new GitPublishRequest(new GitRepositoryOptions(_remote.Url, "main", workDir),
                new GitOpsChange(branch, description.CommitMessage, "Ada Lovelace", "ada@example.com")),
            GitPublisherTests.SetDigest("web", description.Digest), CancellationToken.None);
        var prs = new GitHubPullRequests(new GitHubRepositoryOptions("acme", "gitops", _github.Token, _github.BaseUrl), _log);
        var pr = await prs.OpenOrUpdateAsync(new PullRequestSpec(branch, "main", description.Title, description.PullRequestBody)
        {
            Labels = ["promotion"],
            Reviewers = ["alice"],
            AutoMerge = autoMerge,
            ExpectedHeadSha = push.CommitSha,
        }, CancellationToken.None);
        return (push, pr);
    }

    [Test]
    public async Task Pushes_opens_a_pull_request_on_the_pushed_commit_and_a_rerun_changes_nothing()
    {
        var work = _remote.NewPath("work");
        var (push, pr) = await PromoteAsync(work, autoMerge: null);

        Assert.That(push.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        Assert.That(pr.Created, Is.True);
        Assert.That(pr.HeadSha, Is.EqualTo(push.CommitSha), "GitHub sees the commit we pushed");
        var state = _github.Pulls("acme", "gitops").Single();
        Assert.That(state.Title, Is.EqualTo("Promote web to staging (sha256:cccccccccccc)"));
        Assert.That(state.Body, Does.Contain("| Target image | `" + Target + "` |").And.Contain("- `apps/web/staging/deployment.yaml`"));
        Assert.That(_remote.Log(push.Branch, "%B"), Does.Contain("Target image: " + Target).And.Contain("Run: https://ci.example.com/runs/42"));

        var (again, samePr) = await PromoteAsync(work, autoMerge: null);
        Assert.That(again.Outcome, Is.EqualTo(GitPublishOutcome.AlreadyUpToDate));
        Assert.That(samePr.Created, Is.False);
        Assert.That(samePr.Number, Is.EqualTo(pr.Number));
        Assert.That(_github.Pulls("acme", "gitops"), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Auto_merge_lands_the_digest_on_the_base_branch()
    {
        var (push, pr) = await PromoteAsync(_remote.NewPath("work"), MergeMethod.Squash);

        Assert.That(pr.Merge!.Merged, Is.True, pr.Merge.Reason);
        Assert.That(_remote.Head("main"), Is.EqualTo(pr.Merge.Sha));
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Contain("@sha256:" + new string('c', 64)));
        Assert.That(TestGit.Run(_remote.BarePath, "rev-list", "--count", "main"), Is.EqualTo("2"), "squash: one commit on top of the base");
        Assert.That(_remote.Log("main", "%s").Split('\n')[0], Is.EqualTo("Promote web to staging (sha256:cccccccccccc) (#1)"));

        // The squash left the promotion branch behind; a re-run sees the base already holds the digest.
        var rerun = await new GitPublisher(_log).PublishAsync(
            new GitPublishRequest(new GitRepositoryOptions(_remote.Url, "main", _remote.NewPath("work")), new GitOpsChange(push.Branch, "again", "Ada", "ada@example.com")),
            GitPublisherTests.SetDigest("web", Description().Digest), CancellationToken.None);
        Assert.That((rerun.Outcome, rerun.Branch, rerun.OnBaseBranch), Is.EqualTo((GitPublishOutcome.AlreadyUpToDate, "main", true)));
        Assert.That(rerun.CommitSha, Is.EqualTo(pr.Merge.Sha));
    }

    [Test]
    public async Task Auto_merge_is_refused_when_the_branch_moved_after_our_push()
    {
        var work = _remote.NewPath("work");
        var description = Description();
        var branch = PromotionBranch.For("staging", "web", description.Digest);
        var push = await new GitPublisher(_log).PublishAsync(
            new GitPublishRequest(new GitRepositoryOptions(_remote.Url, "main", work), new GitOpsChange(branch, description.CommitMessage, "Ada", "ada@example.com")),
            GitPublisherTests.SetDigest("web", description.Digest), CancellationToken.None);
        _remote.PushFromElsewhere(branch, "apps/web/staging/extra.yaml", "kind: ConfigMap\n");

        var pr = await new GitHubPullRequests(new GitHubRepositoryOptions("acme", "gitops", _github.Token, _github.BaseUrl), _log)
            .OpenOrUpdateAsync(new PullRequestSpec(branch, "main", description.Title, description.PullRequestBody) { AutoMerge = MergeMethod.Merge, ExpectedHeadSha = push.CommitSha }, CancellationToken.None);

        Assert.That(pr.Merge!.Merged, Is.False);
        Assert.That(pr.Merge.Reason, Does.StartWith("409 Head branch was modified."));
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Not.Contain(new string('c', 64)), "nothing merged");
    }

    /// <summary>One promotion as the pipeline runs it: edit by manifest target, push, open the pull request, auto-merge.</summary>
    private async Task<(GitPublishResult Push, PullRequestResult Pr)> PromoteDigestAsync(char digit)
    {
        var target = "registry.example.com/web@sha256:" + new string(digit, 64);
        var description = Description() with { TargetImage = target };
        var branch = PromotionBranch.For(description.Environment, description.Service, description.Digest);
        var push = await new GitPublisher(_log).PublishAsync(
            new GitPublishRequest(new GitRepositoryOptions(_remote.Url, "main", _remote.NewPath("work")), new GitOpsChange(branch, description.CommitMessage, "Ada", "ada@example.com")),
            [new ManifestImageEdit("apps/web/staging/deployment.yaml", new ContainerImageTarget("web"), target)], CancellationToken.None);
        var pr = await new GitHubPullRequests(new GitHubRepositoryOptions("acme", "gitops", _github.Token, _github.BaseUrl), _log)
            .OpenOrUpdateAsync(new PullRequestSpec(branch, "main", description.Title, description.PullRequestBody) { AutoMerge = MergeMethod.Squash, ExpectedHeadSha = push.CommitSha }, CancellationToken.None);
        return (push, pr);
    }

    [Test]
    public async Task A_rollback_to_a_digest_promoted_before_really_changes_the_base_branch()
    {
        var (a, prA) = await PromoteDigestAsync('d');
        var (b, prB) = await PromoteDigestAsync('e');
        Assert.That((prA.Merge!.Merged, prB.Merge!.Merged), Is.EqualTo((true, true)));
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Contain("@sha256:" + new string('e', 64)));
        Assert.That(_remote.Head(a.Branch), Is.Not.Null, "GitHub keeps the merged branch of the first promotion");

        // Roll back to the first digest: its old branch already "holds" it, main does not.
        var (rollback, prRollback) = await PromoteDigestAsync('d');

        Assert.That((rollback.Outcome, rollback.BranchReset, rollback.Branch), Is.EqualTo((GitPublishOutcome.Pushed, true, a.Branch)));
        Assert.That((prRollback.Created, prRollback.Number, prRollback.Merge!.Merged), Is.EqualTo((true, 3, true)));
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Contain("@sha256:" + new string('d', 64)), "main pins the rolled-back digest");
        Assert.That(rollback.Verified!.Pins.Single().Images, Is.EqualTo(new[] { "registry.example.com/web@sha256:" + new string('d', 64) }));
    }

    [Test]
    public async Task An_open_pull_request_on_a_leftover_branch_is_updated_with_the_reset_commit()
    {
        var description = Description();
        var branch = PromotionBranch.For(description.Environment, description.Service, description.Digest);
        var edit = new ManifestImageEdit("apps/web/staging/deployment.yaml", new ContainerImageTarget("web"), Target);
        GitPublishRequest Request() => new(new GitRepositoryOptions(_remote.Url, "main", _remote.NewPath("work")), new GitOpsChange(branch, description.CommitMessage, "Ada", "ada@example.com"));
        var pulls = new GitHubPullRequests(new GitHubRepositoryOptions("acme", "gitops", _github.Token, _github.BaseUrl), _log);
        var first = await new GitPublisher(_log).PublishAsync(Request(), [edit], CancellationToken.None);
        var opened = await pulls.OpenOrUpdateAsync(new PullRequestSpec(branch, "main", description.Title, description.PullRequestBody), CancellationToken.None);
        // Meanwhile main moves on (someone pins another digest directly).
        _remote.PushFromElsewhere("main", "apps/web/staging/deployment.yaml", BareRemote.Manifest("web", "sha256:" + new string('e', 64)));

        var again = await new GitPublisher(_log).PublishAsync(Request(), [edit], CancellationToken.None);
        var updated = await pulls.OpenOrUpdateAsync(new PullRequestSpec(branch, "main", description.Title, description.PullRequestBody) { ExpectedHeadSha = again.CommitSha }, CancellationToken.None);

        Assert.That((again.Outcome, again.BranchReset), Is.EqualTo((GitPublishOutcome.Pushed, true)));
        Assert.That((updated.Created, updated.Number, updated.HeadSha), Is.EqualTo((false, opened.Number, again.CommitSha)), "the open pull request now shows the reset commit");
        Assert.That(updated.HeadSha, Is.Not.EqualTo(first.CommitSha));
        Assert.That(TestGit.Run(_remote.BarePath, "diff", "--name-only", "main", branch), Is.EqualTo("apps/web/staging/deployment.yaml"));
    }

    [Test]
    public void The_description_requires_a_digest_pinned_target()
    {
        var description = Description() with { TargetImage = "registry.example.com/web:1.2.3" };
        var ex = Assert.Throws<PromotionException>(() => _ = description.Title);
        Assert.That(ex!.Message, Does.Contain("'registry.example.com/web:1.2.3' of web has no digest"));
    }

    [Test]
    public void The_description_names_service_environments_images_manifests_run_and_trigger()
    {
        var body = Description().PullRequestBody;
        Assert.That(body, Does.Contain("| Service | `web` |"));
        Assert.That(body, Does.Contain("| Environment | dev → staging |"));
        Assert.That(body, Does.Contain("| Source image | `" + Source + "` |"));
        Assert.That(body, Does.Contain("| Digest | `sha256:" + new string('c', 64) + "` |"));
        Assert.That(body, Does.Contain("| Pipeline run | [https://ci.example.com/runs/42](https://ci.example.com/runs/42) |"));
        Assert.That(body, Does.Contain("| Triggered by | @ada |"));
        Assert.That(Description().CommitMessage.Split('\n')[0], Is.EqualTo("Promote web to staging (sha256:cccccccccccc)"));
    }
}
