using ImagePromotion.GitOps.Git;
using ImagePromotion.GitOps.Manifests;
using ImagePromotion.Logging;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Git;

/// <summary>
/// What lands in Git is read back, not assumed: pushes that lose a race (client- or server-side) are retried on
/// the new head, a promotion branch left over from an earlier promotion is reset onto the base, several images
/// go in one commit, and a compare-and-swap on the pinned images tells a superseded promotion.
/// </summary>
[TestFixture]
public sealed class GitOutcomeTests : BareRemoteFixture
{
    private static readonly string A = "sha256:" + new string('a', 64);
    private static readonly string B = "sha256:" + new string('b', 64);
    private static readonly string C = "sha256:" + new string('c', 64);
    private static readonly string E = "sha256:" + new string('e', 64);
    private const string WebManifest = "apps/web/staging/deployment.yaml";
    private const string ApiManifest = "apps/api/staging/deployment.yaml";
    private static ManifestImageEdit Web(string digest) => new(WebManifest, new ContainerImageTarget("web"), "registry.example.com/web@" + digest);
    private static ManifestImageEdit Api(string digest) => new(ApiManifest, new ContainerImageTarget("api"), "registry.example.com/api@" + digest);

    private GitPublishRequest Request(GitPublishMode mode, string digest, string? work = null) =>
        new(new GitRepositoryOptions(_remote.Url, "main", work ?? _remote.NewPath("work")),
            new GitOpsChange(PromotionBranch.For("staging", "web", ImagePromotion.Registry.Digest.Parse(digest)), "Promote web to staging", "Ada Lovelace", "ada@example.com"))
        { Mode = mode, RetryDelay = TimeSpan.Zero };

    private void Hook(string name, string script)
    {
        var hook = Path.Combine(_remote.BarePath, "hooks", name);
        File.WriteAllText(hook, "#!/bin/sh\n" + script);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Test]
    public async Task A_push_the_server_refuses_with_cannot_lock_ref_is_retried_on_the_new_head()
    {
        // Another team's commit lands on main while our push is being received (the server's ref lock fails).
        var theirs = _remote.PushFromElsewhere("interloper", ApiManifest, BareRemote.Manifest("api", E));
        var marker = Path.Combine(_remote.Root, "moved");
        Hook("pre-receive", $"if [ ! -e '{marker}' ]; then touch '{marker}'; env -u GIT_QUARANTINE_PATH git update-ref refs/heads/main {theirs}; fi\nexit 0\n");

        var result = await new GitPublisher(_log).PublishAsync(Request(GitPublishMode.DirectPush, C), [Web(C)], CancellationToken.None);

        Assert.That((result.Outcome, result.Attempts), Is.EqualTo((GitPublishOutcome.Pushed, 2)));
        Assert.That(_log.Lines, Has.Some.Contains("remote rejected: cannot lock ref 'refs/heads/main'").And.Contains("re-applying"));
        Assert.That(TestGit.Run(_remote.BarePath, "rev-parse", "main^"), Is.EqualTo(theirs), "our commit sits on top of theirs");
        Assert.That(_remote.Show("main", ApiManifest), Does.Contain(E), "their change survives");
        Assert.That(_remote.Show("main", WebManifest), Does.Contain(C));
        Assert.That(result.Verified!.Pins.Single().Images, Is.EqualTo(new[] { "registry.example.com/web@" + C }));
    }

    [Test]
    public void A_push_refused_for_another_reason_by_the_server_is_not_retried()
    {
        Hook("pre-receive", "echo 'error: GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n");
        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(Request(GitPublishMode.DirectPush, C), [Web(C)], CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("GH006: Protected branch update failed"));
        Assert.That(_log.Lines, Has.None.Contains("re-applying"));
    }

    [Test]
    public async Task Several_images_go_in_one_commit_and_each_is_verified_on_the_branch()
    {
        var shop = "apps/shop/production/deployment.yaml";
        _remote.PushFromElsewhere("main", shop,
            "kind: Deployment\nmetadata: {name: shop}\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: registry.example.com/shop-api@" + A + "\n      - name: worker\n        image: registry.example.com/shop-worker@" + A + "\n");
        ManifestImageEdit[] edits =
        [
            new(shop, new ContainerImageTarget("api"), "registry.example.com/shop-api@" + C),
            new(shop, new ContainerImageTarget("worker"), "registry.example.com/shop-worker@" + E),
            Api(C),
        ];
        var before = _remote.Head("main");

        var result = await new GitPublisher(_log).PublishAsync(Request(GitPublishMode.DirectPush, C), edits, CancellationToken.None);

        Assert.That(result.ChangedFiles, Is.EquivalentTo(new[] { shop, ApiManifest }));
        Assert.That(TestGit.Run(_remote.BarePath, "rev-parse", "main^"), Is.EqualTo(before), "one commit");
        Assert.That(_remote.Show("main", shop), Does.Contain("shop-api@" + C).And.Contain("shop-worker@" + E));
        Assert.That(result.Verified!.Pins.Select(p => (p.Images.Single(), p.HoldsEdit)), Is.EqualTo(new[]
        {
            ("registry.example.com/shop-api@" + C, true), ("registry.example.com/shop-worker@" + E, true), ("registry.example.com/api@" + C, true),
        }));
        Assert.That(result.Verified.Commit, Is.EqualTo(result.CommitSha));
    }

    [Test]
    public async Task Read_back_gives_what_the_base_pins_now()
    {
        var pins = await new GitPublisher(_log).ReadPinnedAsync(new GitRepositoryOptions(_remote.Url, "main", _remote.NewPath("read")), [Web(C), Api(C)], CancellationToken.None);

        Assert.That(pins.Commit, Is.EqualTo(_remote.Head("main")));
        Assert.That(pins.Pins.Select(p => (p.Images.Single(), p.HoldsEdit)), Is.EqualTo(new[]
        {
            ("registry.example.com/web@" + A, false), ("registry.example.com/api@" + B, false),
        }));
        Assert.That(pins.Describe(), Is.EqualTo($"{WebManifest}: registry.example.com/web@{A}; {ApiManifest}: registry.example.com/api@{B}"));
    }

    [Test]
    public async Task With_expected_pins_a_promotion_whose_image_another_promotion_changed_meanwhile_stops_without_pushing()
    {
        var publisher = new GitPublisher(_log);
        var seen = await publisher.ReadPinnedAsync(new GitRepositoryOptions(_remote.Url, "main", _remote.NewPath("read")), [Web(C)], CancellationToken.None);
        // The other promotion wins the race to main with digest E.
        var winner = _remote.PushFromElsewhere("main", WebManifest, BareRemote.Manifest("web", E));

        var ex = Assert.ThrowsAsync<GitOpsSupersededException>(() => publisher.PublishAsync(Request(GitPublishMode.DirectPush, C) with { ExpectedPins = seen }, [Web(C)], CancellationToken.None));

        Assert.That(ex!.Message, Does.StartWith($"main of {_remote.Url} now pins {WebManifest}: registry.example.com/web@{E} (commit {winner[..12]}), not {WebManifest}: registry.example.com/web@{A}"));
        Assert.That(ex.Found!.Commit, Is.EqualTo(winner));
        Assert.That(_remote.Head("main"), Is.EqualTo(winner), "nothing pushed over the winner");
    }

    [Test]
    public async Task With_expected_pins_an_unrelated_commit_on_the_base_is_built_upon()
    {
        var publisher = new GitPublisher(_log);
        var seen = await publisher.ReadPinnedAsync(new GitRepositoryOptions(_remote.Url, "main", _remote.NewPath("read")), [Web(C)], CancellationToken.None);
        var unrelated = _remote.PushFromElsewhere("main", ApiManifest, BareRemote.Manifest("api", E));

        var result = await publisher.PublishAsync(Request(GitPublishMode.DirectPush, C) with { ExpectedPins = seen }, [Web(C)], CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        Assert.That(TestGit.Run(_remote.BarePath, "rev-parse", "main^"), Is.EqualTo(unrelated));
    }

    [Test]
    public void A_change_landing_on_top_right_after_our_push_fails_the_promotion_naming_what_is_there()
    {
        // After our push is accepted, another promotion pushes digest E over ours (before we read back).
        var marker = Path.Combine(_remote.Root, "overwritten");
        var other = _remote.NewPath("late");
        Hook("post-receive", $"""
            [ -e '{marker}' ] && exit 0
            touch '{marker}'
            unset GIT_DIR GIT_QUARANTINE_PATH GIT_PUSH_OPTION_COUNT
            git clone -q '{_remote.BarePath}' '{other}' && cd '{other}' \
              && sed -i 's/@sha256:[0-9a-f]*/@{E}/' {WebManifest} \
              && git -c user.name=late -c user.email=l@e commit -qam late && git push -q origin HEAD:main
            exit 0

            """);

        var ex = Assert.ThrowsAsync<GitOpsSupersededException>(() => new GitPublisher(_log).PublishAsync(Request(GitPublishMode.DirectPush, C), [Web(C)], CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain($"does not hold this promotion: it pins {WebManifest}: registry.example.com/web@{E} instead of registry.example.com/web@{C}"));
        Assert.That(ex.Found!.Commit, Is.EqualTo(_remote.Head("main")));
    }

    [Test]
    public async Task A_leftover_promotion_branch_is_reset_onto_the_base_so_a_repromotion_changes_git()
    {
        // Promote C on a branch (merged elsewhere by hand), then the base moves on to E.
        var first = await new GitPublisher(_log).PublishAsync(Request(GitPublishMode.PullRequestBranch, C), [Web(C)], CancellationToken.None);
        TestGit.Run(_remote.BarePath, "update-ref", "refs/heads/main", first.CommitSha!);
        var moved = _remote.PushFromElsewhere("main", WebManifest, BareRemote.Manifest("web", E));

        // Promoting C again (a rollback): the old branch already "holds" C but main does not.
        var again = await new GitPublisher(_log).PublishAsync(Request(GitPublishMode.PullRequestBranch, C), [Web(C)], CancellationToken.None);

        Assert.That((again.Outcome, again.BranchReset), Is.EqualTo((GitPublishOutcome.Pushed, true)));
        Assert.That(TestGit.Run(_remote.BarePath, "rev-parse", again.Branch + "^"), Is.EqualTo(moved), "the branch starts from the current base");
        Assert.That(TestGit.Run(_remote.BarePath, "diff", "--name-only", "main", again.Branch), Is.EqualTo(WebManifest));
        Assert.That(_remote.Show(again.Branch, WebManifest), Does.Contain(C));
        Assert.That(_log.Lines, Has.Some.Contains("left by an earlier promotion; resetting it onto main"));
    }

    [Test]
    public async Task A_live_promotion_branch_is_reused_and_a_rerun_pushes_nothing()
    {
        var first = await new GitPublisher(_log).PublishAsync(Request(GitPublishMode.PullRequestBranch, C), [Web(C)], CancellationToken.None);
        var again = await new GitPublisher(_log).PublishAsync(Request(GitPublishMode.PullRequestBranch, C), [Web(C)], CancellationToken.None);

        Assert.That((again.Outcome, again.CommitSha, again.BranchReset), Is.EqualTo((GitPublishOutcome.AlreadyUpToDate, first.CommitSha, false)));
        Assert.That(again.Verified!.Pins.Single().HoldsEdit, Is.True);
    }
}
