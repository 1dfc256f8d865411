using ImagePromotion.GitOps.PullRequests;
using ImagePromotion.Logging;
using ImagePromotion.Tests.Servers.GitHub;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.PullRequests;

[TestFixture]
public sealed class GitHubPullRequestsTests : GitHubServerFixture
{
    private GitHubPullRequests Client(string? token = null, string repository = "gitops") =>
        new(new GitHubRepositoryOptions("acme", repository, token ?? _server.Token, _server.BaseUrl), _log);

    private static PullRequestSpec Spec(string body = "first body") =>
        new("promote/staging/web-cccccccccccc", "main", "Promote web to staging (sha256:cccccccccccc)", body)
        {
            Labels = ["promotion", "env:staging"],
            Reviewers = ["alice", "bob"],
            Assignees = ["carol"],
        };

    [Test]
    public async Task Opens_a_pull_request_with_labels_reviewers_and_assignees()
    {
        var result = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);

        Assert.That(result.Created, Is.True);
        Assert.That(result.Number, Is.EqualTo(1));
        Assert.That(result.HtmlUrl, Is.EqualTo(_server.BaseUrl + "acme/gitops/pull/1"));
        Assert.That(result.HeadSha, Has.Length.EqualTo(40));
        Assert.That(result.Merge, Is.Null);
        var pr = _server.Pulls("acme", "gitops").Single();
        Assert.That(pr.Title, Is.EqualTo("Promote web to staging (sha256:cccccccccccc)"));
        Assert.That(pr.Body, Is.EqualTo("first body"));
        Assert.That((pr.HeadOwner, pr.HeadRef, pr.BaseRef), Is.EqualTo(("acme", "promote/staging/web-cccccccccccc", "main")));
        Assert.That(pr.Labels, Is.EqualTo(new[] { "promotion", "env:staging" }));
        Assert.That(pr.RequestedReviewers, Is.EqualTo(new[] { "alice", "bob" }));
        Assert.That(pr.Assignees, Is.EqualTo(new[] { "carol" }));
        Assert.That(_server.Requests, Is.EqualTo(new[]
        {
            "GET /api/v3/repos/acme/gitops/pulls?state=open&head=acme%3Apromote%2Fstaging%2Fweb-cccccccccccc&base=main&sort=created&direction=desc",
            "POST /api/v3/repos/acme/gitops/pulls",
            "POST /api/v3/repos/acme/gitops/issues/1/labels",
            "POST /api/v3/repos/acme/gitops/pulls/1/requested_reviewers",
            "POST /api/v3/repos/acme/gitops/issues/1/assignees",
        }));
    }

    [Test]
    public async Task A_ghes_base_url_given_with_its_api_path_reaches_the_same_api()
    {
        var client = new GitHubPullRequests(new GitHubRepositoryOptions("acme", "gitops", _server.Token, _server.ApiUrl + "/"), _log);
        var result = await client.OpenOrUpdateAsync(Spec(), CancellationToken.None);
        Assert.That(result.Number, Is.EqualTo(1));
        Assert.That(_server.Requests, Has.All.StartWith("GET /api/v3/").Or.StartWith("POST /api/v3/"));
    }

    [Test]
    public async Task A_rerun_updates_the_open_pull_request_instead_of_opening_a_second()
    {
        var first = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);
        var second = await Client().OpenOrUpdateAsync(Spec("second body") with { Labels = ["promotion", "late-label"] }, CancellationToken.None);

        Assert.That(second.Created, Is.False);
        Assert.That(second.Number, Is.EqualTo(first.Number));
        var pr = _server.Pulls("acme", "gitops").Single();
        Assert.That(pr.Body, Is.EqualTo("second body"));
        Assert.That(pr.Labels, Is.EqualTo(new[] { "promotion", "env:staging", "late-label" }));
        Assert.That(_server.Requests.Count(r => r == "POST /api/v3/repos/acme/gitops/pulls"), Is.EqualTo(1));
        Assert.That(_server.Requests.Count(r => r == "PATCH /api/v3/repos/acme/gitops/pulls/1"), Is.EqualTo(1));
        Assert.That(_server.Requests.Count(r => r.EndsWith("/requested_reviewers", StringComparison.Ordinal)), Is.EqualTo(1), "reviewers already requested are not pinged again");
        Assert.That(_server.Requests.Count(r => r.EndsWith("/assignees", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(_log.Lines, Has.Some.Contains("Reusing open pull request #1"));
    }

    [Test]
    public async Task A_closed_pull_request_for_the_same_branch_is_not_reused()
    {
        await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);
        _server.Pulls("acme", "gitops")[0].State = "closed";

        var again = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);

        Assert.That(again.Created, Is.True);
        Assert.That(again.Number, Is.EqualTo(2));
    }

    [Test]
    public async Task Auto_merge_merges_with_the_chosen_method()
    {
        var result = await Client().OpenOrUpdateAsync(Spec() with { AutoMerge = MergeMethod.Squash }, CancellationToken.None);

        Assert.That(result.Merge!.Merged, Is.True);
        Assert.That(result.Merge.Sha, Has.Length.EqualTo(40));
        var pr = _server.Pulls("acme", "gitops").Single();
        Assert.That((pr.Merged, pr.MergeMethod, pr.State), Is.EqualTo((true, "squash", "closed")));
        Assert.That(pr.MergeCommitSha, Is.EqualTo(result.Merge.Sha));
    }

    [TestCase(MergeRefusal.ChecksPending, "405 Required status check \"ci/build\" is expected.")]
    [TestCase(MergeRefusal.ReviewsMissing, "405 At least 1 approving review is required by reviewers with write access.")]
    [TestCase(MergeRefusal.Conflict, "405 Pull Request is not mergeable")]
    public async Task A_refused_merge_reports_merged_false_with_githubs_reason(MergeRefusal refusal, string reason)
    {
        var opened = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);
        _server.RefuseMerges("acme", "gitops", opened.Number, refusal);

        var merge = await Client().MergeAsync(opened.Number, MergeMethod.Merge, opened.HeadSha, null, CancellationToken.None);

        Assert.That(merge.Merged, Is.False);
        Assert.That(merge.Sha, Is.Null);
        Assert.That(merge.Reason, Does.StartWith(reason).And.Not.Contain("\n"));
        Assert.That(_server.Pulls("acme", "gitops").Single().Merged, Is.False);
        var ex = Assert.Throws<PromotionException>(() => merge.ThrowIfNotMerged());
        Assert.That(ex!.Message, Does.StartWith("Pull request #1 was not merged: " + reason));
    }

    [Test]
    public async Task A_merge_refused_for_missing_reviews_goes_through_once_approved()
    {
        var opened = await Client().OpenOrUpdateAsync(Spec() with { AutoMerge = MergeMethod.Rebase }, CancellationToken.None);
        Assert.That(opened.Merge!.Merged, Is.True, "no protection yet");

        var second = await Client().OpenOrUpdateAsync(Spec() with { HeadBranch = "promote/prod/web-cccccccccccc" }, CancellationToken.None);
        _server.RefuseMerges("acme", "gitops", second.Number, MergeRefusal.ReviewsMissing);
        Assert.That((await Client().MergeAsync(second.Number, MergeMethod.Merge, null, null, CancellationToken.None)).Merged, Is.False);

        _server.AddReview("acme", "gitops", second.Number, "alice", "APPROVED");
        var merge = await Client().MergeAsync(second.Number, MergeMethod.Merge, second.HeadSha, "Promote web to prod", CancellationToken.None);
        Assert.That(merge.Merged, Is.True);
    }

    [Test]
    public async Task A_merge_of_a_moved_head_is_refused_with_409()
    {
        var opened = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);
        _server.MoveHead("acme", "gitops", opened.Number, new string('f', 40));

        var merge = await Client().MergeAsync(opened.Number, MergeMethod.Squash, opened.HeadSha, null, CancellationToken.None);

        Assert.That(merge.Merged, Is.False);
        Assert.That(merge.Reason, Does.StartWith("409 Head branch was modified. Review and try the merge again."));
    }

    [Test]
    public async Task Reviews_are_read_back_for_the_approvals_gate()
    {
        var opened = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);
        _server.AddReview("acme", "gitops", opened.Number, "alice", "CHANGES_REQUESTED", commitId: new string('1', 40));
        var approval = _server.AddReview("acme", "gitops", opened.Number, "bob", "APPROVED");

        var reviews = await Client().GetReviewsAsync(opened.Number, CancellationToken.None);

        Assert.That(reviews.Select(r => (r.Login, r.State, r.CommitId)), Is.EqualTo(new[]
        {
            ("alice", "CHANGES_REQUESTED", new string('1', 40)),
            ("bob", "APPROVED", opened.HeadSha),
        }));
        Assert.That(reviews[1].IsApproval, Is.True);
        Assert.That(reviews[1].SubmittedAt!.Value, Is.EqualTo(approval.SubmittedAt).Within(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task Requesting_the_author_as_reviewer_is_a_warning_not_a_failure()
    {
        var result = await Client().OpenOrUpdateAsync(Spec() with { Reviewers = [_server.TokenOwner] }, CancellationToken.None);

        Assert.That(result.Warnings.Single(), Does.Contain("Review cannot be requested from pull request author."));
        Assert.That(_log.Lines, Has.Some.StartsWith("warning: GitHub would not request reviewers promotion-bot"));
        Assert.That(_server.Pulls("acme", "gitops").Single().Assignees, Is.EqualTo(new[] { "carol" }), "the rest still happens");
    }

    [Test]
    public void A_bad_token_fails_on_one_line_naming_the_fix_without_the_token()
    {
        var wrong = "ghp_wrong_" + Guid.NewGuid().ToString("N");
        var ex = Assert.ThrowsAsync<PromotionException>(() => Client(wrong).OpenOrUpdateAsync(Spec(), CancellationToken.None));

        Assert.That(ex!.Message, Does.StartWith("GitHub list pull requests on acme/gitops failed (401 Bad credentials)"));
        Assert.That(ex.Message, Does.Contain("issue a new one").And.Not.Contain(wrong));
        Assert.That(_server.Pulls("acme", "gitops"), Is.Empty);
    }

    [Test]
    public void An_unknown_repository_fails_with_404_and_the_fix()
    {
        var ex = Assert.ThrowsAsync<PromotionException>(() => Client(repository: "nope").OpenOrUpdateAsync(Spec(), CancellationToken.None));
        Assert.That(ex!.Message, Does.StartWith("GitHub list pull requests on acme/nope failed (404 ").And.Contain("check the owner/repository names, that the token can see acme/nope, and the API base URL (" + _server.ApiUrl + "/)"));
    }

    [Test]
    public void Bad_options_are_refused_before_any_request()
    {
        Assert.That(Assert.Throws<PromotionException>(() => new GitHubPullRequests(new GitHubRepositoryOptions("acme", "gitops", ""), _log))!.Message,
            Does.Contain("No GitHub token for acme/gitops"));
        Assert.That(Assert.Throws<PromotionException>(() => new GitHubPullRequests(new GitHubRepositoryOptions("acme", "gitops", "t0ken", "not a url"), _log))!.Message,
            Does.Contain("The GitHub base URL 'not a url' is not an absolute http(s) URL"));
        Assert.That(Assert.ThrowsAsync<PromotionException>(() => Client().OpenOrUpdateAsync(Spec() with { HeadBranch = "main" }, CancellationToken.None))!.Message,
            Does.Contain("distinct head and base branches"));
        Assert.That(_server.Requests, Is.Empty);
    }
}
