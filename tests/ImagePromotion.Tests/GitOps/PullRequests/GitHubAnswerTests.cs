using System.Net;
using System.Text.RegularExpressions;
using ImagePromotion.GitOps.PullRequests;
using ImagePromotion.Logging;
using ImagePromotion.Tests.Servers.GitHub;
using NUnit.Framework;
using Octokit;

namespace ImagePromotion.Tests.GitOps.PullRequests;

/// <summary>
/// Every GitHub answer read for what it is: rate limits (primary, secondary) waited out within a bound or
/// reported with their time, a pull request opened concurrently adopted, and the API base URL used as given.
/// </summary>
[TestFixture]
public sealed class GitHubAnswerTests : GitHubServerFixture
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private GitHubPullRequests Client(TimeSpan? maxWait = null, string? baseUrl = null) =>
        new(new GitHubRepositoryOptions("acme", "gitops", _server.Token, baseUrl ?? _server.BaseUrl) { MaxRateLimitWait = maxWait ?? TimeSpan.FromSeconds(60) }, _log);

    private static PullRequestSpec Spec() => new("promote/production/app-aaaaaaaaaaaa", "main", "Promote app to production (sha256:aaaaaaaaaaaa)", "body")
    {
        Labels = ["deployment"],
    };

    private int Creates => _server.Requests.Count(r => r == "POST /api/v3/repos/acme/gitops/pulls");

    [Test]
    public async Task A_secondary_rate_limit_with_retry_after_is_waited_out_and_said()
    {
        _server.SecondaryRateLimitNext(TimeSpan.FromSeconds(1), "POST");

        var result = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);

        Assert.That((result.Created, result.Number), Is.EqualTo((true, 1)));
        Assert.That(Creates, Is.EqualTo(2), "refused once, then created");
        Assert.That(_log.Lines, Has.Some.Match(@"^warning: GitHub secondary rate limit \(retry at .*Z \(in [12] s\)\) on acme/gitops: waiting 2 s, within the 60 s this run waits for a rate limit \(attempt 2 of 4\)\.$"));
    }

    [Test]
    public void A_secondary_rate_limit_longer_than_the_bound_fails_at_once_with_its_time_not_as_a_permission_problem()
    {
        // No Retry-After: GitHub says to wait at least a minute.
        _server.SecondaryRateLimitNext(null, "POST");

        var ex = Assert.ThrowsAsync<PromotionException>(() => Client(TimeSpan.FromSeconds(5)).OpenOrUpdateAsync(Spec(), CancellationToken.None));

        Assert.That(ex!.Message, Does.StartWith("GitHub create pull request on acme/gitops failed (403 You have exceeded a secondary rate limit"));
        Assert.That(ex.Message, Does.Match(@"GitHub's secondary rate limit .*; retry after \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in 60 s\), beyond the 5 s this run waits"));
        Assert.That(ex.Message, Does.Not.Contain("pull-requests: write"));
        Assert.That(ex.Transient, Is.True);
        Assert.That(Creates, Is.EqualTo(1));
    }

    [Test]
    public void A_used_up_primary_rate_limit_names_its_reset_time_and_is_not_waited_beyond_the_bound()
    {
        _server.PrimaryRateLimitNext(TimeSpan.FromMinutes(10));

        var ex = Assert.ThrowsAsync<PromotionException>(() => Client().OpenOrUpdateAsync(Spec(), CancellationToken.None));

        Assert.That(ex!.Message, Does.StartWith("GitHub list pull requests on acme/gitops failed (403 API rate limit exceeded for user ID 1."));
        Assert.That(ex.Message, Does.Match(@"the token's API rate limit is used up; it resets at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in (599|600) s\), beyond the 60 s this run waits"));
        Assert.That(_server.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_primary_rate_limit_that_resets_within_the_bound_is_waited_out()
    {
        _server.PrimaryRateLimitNext(TimeSpan.FromSeconds(1));

        var result = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);

        Assert.That(result.Created, Is.True);
        Assert.That(_log.Lines, Has.Some.StartsWith("warning: GitHub API rate limit (resets at "));
    }

    [Test]
    public async Task A_pull_request_opened_by_a_concurrent_run_between_lookup_and_create_is_adopted()
    {
        _server.OpenConcurrentlyAfterNextList("acme", "gitops", Spec().HeadBranch, "main");

        var result = await Client().OpenOrUpdateAsync(Spec(), CancellationToken.None);

        Assert.That((result.Created, result.Number), Is.EqualTo((false, 1)));
        var pr = _server.Pulls("acme", "gitops").Single();
        Assert.That((pr.Title, pr.Labels.Single()), Is.EqualTo((Spec().Title, "deployment")), "adopted and brought up to date");
        Assert.That(_log.Lines, Has.Some.Contains("already exists (opened meanwhile by another run): adopting #1"));
    }

    [Test]
    public async Task A_base_url_with_a_path_prefix_keeps_it_and_a_bare_server_gets_api_v3()
    {
        var prefixed = Client(baseUrl: _server.BaseUrl + "github/api/v3");
        Assert.That(prefixed.ApiBase.ToString(), Is.EqualTo(_server.BaseUrl + "github/api/v3/"));
        await prefixed.OpenOrUpdateAsync(Spec(), CancellationToken.None);
        Assert.That(_server.Requests, Has.All.Contains(" /github/api/v3/repos/acme/gitops/"));

        Assert.That(Client().ApiBase.ToString(), Is.EqualTo(_server.BaseUrl + "api/v3/"));
    }

    [TestCase(null, "https://api.github.com/")]
    [TestCase("https://github.com", "https://api.github.com/")]
    [TestCase("https://api.github.com/", "https://api.github.com/")]
    [TestCase("https://api.acme.ghe.com", "https://api.acme.ghe.com/")]
    [TestCase("https://acme.ghe.com", "https://api.acme.ghe.com/")]
    [TestCase("https://ghe.example.com", "https://ghe.example.com/api/v3/")]
    [TestCase("https://ghe.example.com/", "https://ghe.example.com/api/v3/")]
    [TestCase("https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/")]
    [TestCase("https://proxy.example.com:8443/github/api/v3/", "https://proxy.example.com:8443/github/api/v3/")]
    public void Api_base_urls(string? given, string expected) => Assert.That(GitHubApiBase.Resolve(given).ToString(), Is.EqualTo(expected));

    [TestCase("ftp://ghe.example.com")]
    [TestCase("https://bot:ghp_secret@ghe.example.com")]
    public void A_bad_base_url_is_refused_without_echoing_credentials(string given)
    {
        var ex = Assert.Throws<PromotionException>(() => GitHubApiBase.Resolve(given))!;
        Assert.That(ex.Message, Does.Contain("is not an absolute http(s) URL without credentials"));
    }

    private sealed record Answered(HttpStatusCode StatusCode, object Body, IReadOnlyDictionary<string, string> Headers) : IResponse
    {
        public ApiInfo ApiInfo => null!;
        public string ContentType => "application/json; charset=utf-8";
    }

    private static ApiException Answer(HttpStatusCode status, string message, params (string Key, string Value)[] headers) =>
        new(new Answered(status, $"{{\"message\":\"{message}\",\"documentation_url\":\"https://docs.github.com/rest\"}}",
            headers.ToDictionary(h => h.Key, h => h.Value)));

    [Test]
    public void Every_error_answer_is_classified_by_status_headers_and_message()
    {
        var reset = Now.AddMinutes(7);
        var cases = new (ApiException Answer, GitHubAnswerKind Kind, DateTimeOffset? RetryAt)[]
        {
            (Answer(HttpStatusCode.Forbidden, "API rate limit exceeded for user ID 1.", ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", reset.ToUnixTimeSeconds().ToString())), GitHubAnswerKind.RateLimit, reset),
            (Answer(HttpStatusCode.TooManyRequests, "slow down", ("Retry-After", "30")), GitHubAnswerKind.SecondaryRateLimit, Now.AddSeconds(30)),
            (Answer(HttpStatusCode.Forbidden, "You have exceeded a secondary rate limit."), GitHubAnswerKind.SecondaryRateLimit, Now.AddMinutes(1)),
            (Answer(HttpStatusCode.Forbidden, "Resource not accessible by integration"), GitHubAnswerKind.Permission, null),
            (Answer(HttpStatusCode.Unauthorized, "Bad credentials"), GitHubAnswerKind.Unauthorized, null),
            (Answer(HttpStatusCode.NotFound, "Not Found"), GitHubAnswerKind.NotFound, null),
            (Answer(HttpStatusCode.MethodNotAllowed, "Pull Request is not mergeable"), GitHubAnswerKind.NotAllowed, null),
            (Answer(HttpStatusCode.Conflict, "Head branch was modified."), GitHubAnswerKind.Conflict, null),
            (Answer(HttpStatusCode.UnprocessableEntity, "A pull request already exists for acme:promote/x."), GitHubAnswerKind.AlreadyExists, null),
            (Answer(HttpStatusCode.UnprocessableEntity, "Validation Failed"), GitHubAnswerKind.Validation, null),
            (Answer(HttpStatusCode.BadGateway, "Server Error"), GitHubAnswerKind.ServerError, null),
        };
        foreach (var (answer, kind, retryAt) in cases)
        {
            var classified = GitHubAnswer.Classify(answer, Now);
            Assert.That((classified.Kind, classified.RetryAt), Is.EqualTo((kind, retryAt)), classified.Message);
        }
    }

    [Test]
    public void A_permission_refusal_says_which_permissions_and_a_404_names_the_api_base()
    {
        var options = new GitHubRepositoryOptions("acme", "gitops", "t");
        var api = new Uri("https://api.acme.ghe.com/");
        var permission = GitHubAnswer.Classify(Answer(HttpStatusCode.Forbidden, "Resource not accessible by integration"), Now).ToException("add labels", options, api, Now, TimeSpan.FromSeconds(60), new Exception());
        Assert.That(permission.Message, Is.EqualTo("GitHub add labels on acme/gitops failed (403 Resource not accessible by integration): the token may not do this: give it 'pull-requests: write' and 'issues: write' on acme/gitops (a fine-grained token or GitHub App needs the repository selected)."));
        var missing = GitHubAnswer.Classify(Answer(HttpStatusCode.NotFound, "Not Found"), Now).ToException("list pull requests", options, api, Now, TimeSpan.FromSeconds(60), new Exception());
        Assert.That(missing.Message, Does.EndWith("and the API base URL (https://api.acme.ghe.com/)."));
    }
}
