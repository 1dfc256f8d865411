using System.Text.RegularExpressions;
using ImagePromotion.GitOps.Git;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Git;

[TestFixture]
public sealed class GitPublisherTests : BareRemoteFixture
{
    private static readonly Digest NewDigest = Digest.Parse("sha256:" + new string('c', 64));
    /// <summary>Stands in for the manifest editor: points the service's image at a digest, as a file edit.</summary>
    internal static Func<string, CancellationToken, Task<IReadOnlyList<string>>> SetDigest(string service, Digest digest, Action<int>? onCall = null)
    {
        var calls = 0;
        return (workTree, _) =>
        {
            onCall?.Invoke(++calls);
            var relative = $"apps/{service}/staging/deployment.yaml";
            var path = Path.Combine(workTree, relative);
            var before = File.ReadAllText(path);
            var after = Regex.Replace(before, @"@sha256:[0-9a-f]{64}", "@" + digest);
            if (after == before) return Task.FromResult<IReadOnlyList<string>>([]);
            File.WriteAllText(path, after);
            return Task.FromResult<IReadOnlyList<string>>([relative]);
        };
    }

    private GitPublishRequest Request(string? workDir = null, GitPublishMode mode = GitPublishMode.PullRequestBranch, string service = "web") =>
        new(new GitRepositoryOptions(_remote.Url, "main", workDir ?? _remote.NewPath("work")),
            new GitOpsChange(PromotionBranch.For("staging", service, NewDigest), $"Promote {service} to staging", "Ada Lovelace", "ada@example.com"))
        { Mode = mode };

    [Test]
    public async Task Pushes_a_promotion_branch_authored_by_the_trigger_user_from_a_shallow_clone()
    {
        var request = Request();
        var result = await new GitPublisher(_log).PublishAsync(request, SetDigest("web", NewDigest), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        Assert.That(result.Branch, Is.EqualTo("promote/staging/web-cccccccccccc"));
        Assert.That(result.ChangedFiles, Is.EqualTo(new[] { "apps/web/staging/deployment.yaml" }));
        Assert.That(result.Attempts, Is.EqualTo(1));
        Assert.That(_remote.Head(result.Branch), Is.EqualTo(result.CommitSha));
        Assert.That(_remote.Show(result.Branch, "apps/web/staging/deployment.yaml"), Does.Contain("@" + NewDigest));
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Not.Contain(NewDigest.ToString()), "the base branch waits for the pull request");
        Assert.That(_remote.Log(result.Branch, "%an|%ae|%cn|%ce|%s").Split('\n')[0],
            Is.EqualTo("Ada Lovelace|ada@example.com|image-promotion|image-promotion@users.noreply.github.com|Promote web to staging"));
        var work = request.Repository.WorkDirectory;
        Assert.That(TestGit.Run(work, "rev-parse", "--is-shallow-repository"), Is.EqualTo("true"));
        Assert.That(TestGit.Run(work, "rev-list", "--count", "--all"), Is.EqualTo("2"), "depth 1 base plus our commit");
    }

    [Test]
    public async Task A_rerun_with_the_same_edit_pushes_nothing_and_says_the_branch_already_holds_it()
    {
        var first = await new GitPublisher(_log).PublishAsync(Request(), SetDigest("web", NewDigest), CancellationToken.None);
        var again = await new GitPublisher(_log).PublishAsync(Request(), SetDigest("web", NewDigest), CancellationToken.None);

        Assert.That(again.Outcome, Is.EqualTo(GitPublishOutcome.AlreadyUpToDate));
        Assert.That(again.Pushed, Is.False);
        Assert.That(again.Unchanged, Is.True);
        Assert.That(again.CommitSha, Is.EqualTo(first.CommitSha));
        Assert.That(again.Branch, Is.EqualTo(first.Branch));
        Assert.That(again.OnBaseBranch, Is.False, "the change waits on its promotion branch");
        Assert.That(_remote.Head(first.Branch), Is.EqualTo(first.CommitSha));
        Assert.That(_log.Lines.Last(), Does.Contain("already holds this change"));
    }

    [Test]
    public async Task Reuses_an_existing_clone_fetching_the_moved_base_and_discarding_leftovers()
    {
        var work = _remote.NewPath("work");
        await new GitPublisher(_log).PublishAsync(Request(work), SetDigest("web", NewDigest), CancellationToken.None);
        File.WriteAllText(Path.Combine(work, "leftover.tmp"), "from an interrupted run");
        File.AppendAllText(Path.Combine(work, "README.md"), "uncommitted edit\n");
        var moved = _remote.PushFromElsewhere("main", "apps/db/staging/deployment.yaml", BareRemote.Manifest("db", "sha256:" + new string('d', 64)));

        var result = await new GitPublisher(_log).PublishAsync(Request(work, service: "api"), SetDigest("api", NewDigest), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        Assert.That(File.Exists(Path.Combine(work, "leftover.tmp")), Is.False);
        Assert.That(result.ChangedFiles, Is.EqualTo(new[] { "apps/api/staging/deployment.yaml" }));
        Assert.That(TestGit.Run(_remote.BarePath, "rev-parse", result.Branch + "^"), Is.EqualTo(moved), "branch starts from the new base head");
        Assert.That(_log.Lines.Count(l => l.StartsWith("info: Cloning", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public async Task Direct_push_commits_on_the_base_branch()
    {
        var result = await new GitPublisher(_log).PublishAsync(Request(mode: GitPublishMode.DirectPush), SetDigest("web", NewDigest), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        Assert.That(result.Branch, Is.EqualTo("main"));
        Assert.That(result.OnBaseBranch, Is.True);
        Assert.That(_remote.Head("main"), Is.EqualTo(result.CommitSha));
        Assert.That(_remote.Head("promote/staging/web-cccccccccccc"), Is.Null);
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Contain("@" + NewDigest));

        var again = await new GitPublisher(_log).PublishAsync(Request(mode: GitPublishMode.DirectPush), SetDigest("web", NewDigest), CancellationToken.None);
        Assert.That(again.Outcome, Is.EqualTo(GitPublishOutcome.AlreadyUpToDate));
        Assert.That(_remote.Head("main"), Is.EqualTo(result.CommitSha));
    }

    [Test]
    public async Task A_concurrent_push_to_the_base_is_rejected_then_the_edit_is_reapplied_on_the_new_head()
    {
        string? competing = null;
        var edit = SetDigest("web", NewDigest, call =>
        {
            // Another pipeline pushes to main after our fetch and before our push.
            if (call == 1) competing = _remote.PushFromElsewhere("main", "apps/api/staging/deployment.yaml", BareRemote.Manifest("api", "sha256:" + new string('e', 64)));
        });

        var result = await new GitPublisher(_log).PublishAsync(Request(mode: GitPublishMode.DirectPush), edit, CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        Assert.That(result.Attempts, Is.EqualTo(2));
        Assert.That(_remote.Head("main"), Is.EqualTo(result.CommitSha));
        Assert.That(TestGit.Run(_remote.BarePath, "rev-parse", "main^"), Is.EqualTo(competing), "our commit sits on top of theirs");
        Assert.That(_remote.Show("main", "apps/api/staging/deployment.yaml"), Does.Contain(new string('e', 64)), "their change survives");
        Assert.That(_remote.Show("main", "apps/web/staging/deployment.yaml"), Does.Contain(NewDigest.ToString()));
        Assert.That(_log.Lines, Has.Some.StartsWith("warning: main of").And.Contains("re-applying"));
    }

    [Test]
    public async Task A_concurrent_push_to_the_promotion_branch_is_built_upon_not_overwritten()
    {
        var request = Request();
        var edit = SetDigest("web", NewDigest, call =>
        {
            if (call == 1) _remote.PushFromElsewhere(request.Change.Branch, "apps/web/staging/NOTES.md", "reviewer note\n");
        });

        var result = await new GitPublisher(_log).PublishAsync(request, edit, CancellationToken.None);

        Assert.That(result.Attempts, Is.EqualTo(2));
        Assert.That(_remote.Head(request.Change.Branch), Is.EqualTo(result.CommitSha));
        Assert.That(_remote.Show(request.Change.Branch, "apps/web/staging/NOTES.md"), Is.EqualTo("reviewer note"));
        Assert.That(_remote.Show(request.Change.Branch, "apps/web/staging/deployment.yaml"), Does.Contain(NewDigest.ToString()));
    }

    [Test]
    public void Gives_up_with_a_conflict_after_the_attempt_limit_when_the_remote_keeps_moving()
    {
        var n = 0;
        var edit = SetDigest("web", NewDigest, _ => _remote.PushFromElsewhere("main", $"noise/{++n}.txt", "x"));
        var request = Request(mode: GitPublishMode.DirectPush) with { MaxAttempts = 2 };

        var ex = Assert.ThrowsAsync<PromotionConflictException>(() => new GitPublisher(_log).PublishAsync(request, edit, CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("rejected 2 times").And.Not.Contain("\n"));
        Assert.That(_remote.Log("main", "%an"), Does.Not.Contain("Ada Lovelace"));
    }

    [Test]
    public void A_push_refused_by_the_server_is_not_retried_and_reports_the_servers_reason()
    {
        var hook = Path.Combine(_remote.BarePath, "hooks", "pre-receive");
        var calls = Path.Combine(_remote.Root, "hook-calls");
        File.WriteAllText(hook, $"#!/bin/sh\necho called >> '{calls}'\necho 'error: GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(Request(mode: GitPublishMode.DirectPush), SetDigest("web", NewDigest), CancellationToken.None));

        Assert.That(ex, Is.Not.InstanceOf<PromotionConflictException>());
        Assert.That(ex!.Message, Is.EqualTo($"git push failed (remote {_remote.Url}, branch main): remote: error: GH006: Protected branch update failed for refs/heads/main."));
        Assert.That(File.ReadAllLines(calls), Has.Length.EqualTo(1));
    }

    [Test]
    public void Cancellation_during_the_edit_stops_before_anything_is_committed_or_pushed()
    {
        using var cts = new CancellationTokenSource();
        var before = _remote.Head("main");
        var request = Request(mode: GitPublishMode.DirectPush);

        Assert.CatchAsync<OperationCanceledException>(() => new GitPublisher(_log).PublishAsync(request, SetDigest("web", NewDigest, _ => cts.Cancel()), cts.Token));

        Assert.That(_remote.Head("main"), Is.EqualTo(before));
        Assert.That(TestGit.Run(request.Repository.WorkDirectory, "log", "--format=%an", "-1"), Is.Not.EqualTo("Ada Lovelace"));
    }

    [Test]
    public async Task Dry_run_returns_the_diff_and_pushes_nothing()
    {
        var before = _remote.Head("main");
        var result = await new GitPublisher(_log).PublishAsync(Request(mode: GitPublishMode.DryRun), SetDigest("web", NewDigest), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.DryRun));
        Assert.That(result.Pushed, Is.False);
        Assert.That(result.ChangedFiles, Is.EqualTo(new[] { "apps/web/staging/deployment.yaml" }));
        Assert.That(result.Diff, Does.Contain("-          image: registry.example.com/web@sha256:" + new string('a', 64)));
        Assert.That(result.Diff, Does.Contain("+          image: registry.example.com/web@" + NewDigest));
        Assert.That(_remote.Head("main"), Is.EqualTo(before));
        Assert.That(_remote.Head(result.Branch), Is.Null);
    }

    [Test]
    public void An_invalid_branch_name_is_refused_before_anything_is_cloned()
    {
        var request = Request() with { Change = new GitOpsChange("promote/staging/web..x", "m", "Ada", "ada@example.com") };
        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(request, SetDigest("web", NewDigest), CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("'promote/staging/web..x' is not a valid git branch name"));
        Assert.That(Directory.Exists(request.Repository.WorkDirectory), Is.False);
    }

    [Test]
    public void A_missing_base_branch_fails_with_the_git_command_and_its_reason_on_one_line()
    {
        var request = Request() with { Repository = new GitRepositoryOptions(_remote.Url, "release", _remote.NewPath("work")) };
        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(request, SetDigest("web", NewDigest), CancellationToken.None));
        Assert.That(ex!.Message, Does.StartWith("git clone failed (remote " + _remote.Url + ", branch release): "));
        Assert.That(ex.Message, Does.Contain("release").And.Not.Contains("\n"));
    }

    [Test]
    public async Task A_work_directory_cloned_from_another_remote_is_refused()
    {
        var work = _remote.NewPath("work");
        await new GitPublisher(_log).PublishAsync(Request(work), SetDigest("web", NewDigest), CancellationToken.None);
        using var other = new BareRemote();
        var request = Request(work) with { Repository = new GitRepositoryOptions(other.Url, "main", work) };

        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(request, SetDigest("web", NewDigest), CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("is a clone of another remote").And.Contain(work));
    }

    [Test]
    public void An_author_without_an_email_is_refused()
    {
        var request = Request() with { Change = Request().Change with { AuthorEmail = "ada" } };
        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(request, SetDigest("web", NewDigest), CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("commit author email 'ada'"));
    }

    [Test]
    public async Task Works_on_a_machine_without_any_git_identity_configured()
    {
        var empty = _remote.NewPath("empty-gitconfig");
        File.WriteAllText(empty, "");
        var saved = (Environment.GetEnvironmentVariable("GIT_CONFIG_GLOBAL"), Environment.GetEnvironmentVariable("GIT_CONFIG_NOSYSTEM"));
        Environment.SetEnvironmentVariable("GIT_CONFIG_GLOBAL", empty);
        Environment.SetEnvironmentVariable("GIT_CONFIG_NOSYSTEM", "1");
        try
        {
            var result = await new GitPublisher(_log).PublishAsync(Request(), SetDigest("web", NewDigest), CancellationToken.None);
            Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        }
        finally
        {
            Environment.SetEnvironmentVariable("GIT_CONFIG_GLOBAL", saved.Item1);
            Environment.SetEnvironmentVariable("GIT_CONFIG_NOSYSTEM", saved.Item2);
        }
    }

    [Test]
    public void Promotion_branch_names_are_deterministic_and_valid()
    {
        Assert.That(PromotionBranch.For("Staging", "Web API", NewDigest), Is.EqualTo("promote/staging/web-api-cccccccccccc"));
        Assert.That(PromotionBranch.For("prod/eu", "web..svc", NewDigest), Is.EqualTo("promote/prod-eu/web-svc-cccccccccccc"));
        var ex = Assert.Throws<PromotionException>(() => PromotionBranch.For("staging", "***", NewDigest));
        Assert.That(ex!.Message, Does.Contain("service name '***'"));
    }
}
