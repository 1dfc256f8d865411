using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Tests.Servers.GitHub;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.PullRequests;

/// <summary>
/// Keeps the GitHub test server honest: every response it gives for the endpoints the promotion uses is
/// checked against GitHub's published OpenAPI description (required fields and JSON types, recursively).
/// </summary>
[TestFixture]
public sealed class GitHubApiServerConformanceTests
{
    private const string Pulls = "/repos/{owner}/{repo}/pulls";
    private const string Pull = "/repos/{owner}/{repo}/pulls/{pull_number}";
    private GitHubApiServer _server = null!;
    private HttpClient _http = null!;
    private OpenApiResponseValidator _validator = null!;

    [OneTimeSetUp]
    public async Task LoadSpec() => _validator = new OpenApiResponseValidator(await GitHubOpenApiSpec.LoadAsync());

    [SetUp]
    public async Task SetUp()
    {
        _server = await GitHubApiServer.StartAsync();
        _server.AddRepository("acme", "gitops");
        _http = new HttpClient { BaseAddress = new Uri(_server.ApiUrl + "/") };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", _server.Token);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("conformance-test");
    }

    [TearDown]
    public async Task TearDown()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<(int Status, JsonElement Body)> Send(string method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
        if (body != null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private async Task<JsonElement> Conforms(string method, string template, string path, int expectedStatus, object? body = null)
    {
        var (status, json) = await Send(method, path, body);
        Assert.That(status, Is.EqualTo(expectedStatus), $"{method} {path}: {json}");
        Assert.That(_validator.StatusCodes(method, template), Does.Contain(status.ToString()), $"{method} {template} never answers {status} on GitHub");
        var errors = _validator.Validate(method, template, status, json);
        Assert.That(errors, Is.Empty, $"{method} {path} ({status}) drifts from GitHub's OpenAPI description");
        return json;
    }

    [Test]
    public async Task Every_endpoint_and_status_the_promotion_uses_matches_githubs_openapi_description()
    {
        const string repo = "/repos/acme/gitops";
        var created = await Conforms("POST", Pulls, repo + "/pulls", 201, new { title = "Promote web", head = "promote/staging/web", @base = "main", body = "details" });
        Assert.That(created.GetProperty("number").GetInt32(), Is.EqualTo(1));
        await Conforms("POST", Pulls, repo + "/pulls", 422, new { title = "Promote web", head = "promote/staging/web", @base = "main" });
        await Conforms("POST", Pulls, repo + "/pulls", 422, new { head = "x", @base = "main" });

        await Conforms("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", repo + "/issues/1/labels", 200, new[] { "promotion", "env:staging" });
        await Conforms("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", repo + "/issues/1/labels", 200, new { labels = new[] { "late" } });
        await Conforms("POST", Pull + "/requested_reviewers", repo + "/pulls/1/requested_reviewers", 201, new { reviewers = new[] { "alice" } });
        await Conforms("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees", repo + "/issues/1/assignees", 201, new { assignees = new[] { "carol" } });
        await Conforms("PATCH", Pull, repo + "/pulls/1", 200, new { title = "Promote web (updated)", body = "more details" });

        var listed = await Conforms("GET", Pulls, repo + "/pulls?state=open&head=acme:promote/staging/web", 200);
        Assert.That(listed.GetArrayLength(), Is.EqualTo(1), "the list is non-empty, so item schemas were checked");
        var full = await Conforms("GET", Pull, repo + "/pulls/1", 200);
        Assert.That(full.GetProperty("labels").GetArrayLength(), Is.EqualTo(3));
        await Conforms("GET", Pull, repo + "/pulls/99", 404);

        _server.AddReview("acme", "gitops", 1, "alice", "APPROVED");
        _server.AddReview("acme", "gitops", 1, "bob", "CHANGES_REQUESTED");
        var reviews = await Conforms("GET", Pull + "/reviews", repo + "/pulls/1/reviews", 200);
        Assert.That(reviews.GetArrayLength(), Is.EqualTo(2));

        await Conforms("PUT", Pull + "/merge", repo + "/pulls/1/merge", 422, new { merge_method = "fast-forward" });
        await Conforms("PUT", Pull + "/merge", repo + "/pulls/1/merge", 409, new { sha = new string('0', 40) });
        _server.RefuseMerges("acme", "gitops", 1, MergeRefusal.ChecksPending);
        await Conforms("PUT", Pull + "/merge", repo + "/pulls/1/merge", 405, new { merge_method = "squash" });
        _server.RefuseMerges("acme", "gitops", 1, MergeRefusal.None);
        var merged = await Conforms("PUT", Pull + "/merge", repo + "/pulls/1/merge", 200, new { merge_method = "squash" });
        Assert.That(merged.GetProperty("merged").GetBoolean(), Is.True);

        var after = await Conforms("GET", Pull, repo + "/pulls/1", 200);
        Assert.That(after.GetProperty("merged_by").ValueKind, Is.EqualTo(JsonValueKind.Object), "a merged pull request's merged_by was checked too");
        await Conforms("GET", Pulls, repo + "/pulls?state=closed", 200);
    }

    [Test]
    public async Task The_validator_catches_a_missing_required_field_and_a_wrong_type()
    {
        var (_, created) = await Send("POST", "/repos/acme/gitops/pulls", new { title = "t", head = "b", @base = "main" });
        var broken = JsonNode.Parse(created.GetRawText())!.AsObject();
        broken.Remove("number");
        broken["head"]!["repo"]!["id"] = "not a number";
        broken["user"]!.AsObject().Remove("login");

        var errors = _validator.Validate("POST", Pulls, 201, JsonDocument.Parse(broken.ToJsonString()).RootElement);

        Assert.That(errors, Has.Some.EqualTo("$: required property 'number' is missing"));
        Assert.That(errors, Has.Some.EqualTo("$.head.repo.id: expected integer, found String"));
        Assert.That(errors, Has.Some.Contains("$.user").And.Contains("'login'"));
        Assert.That(_validator.Validate("PUT", Pull + "/merge", 418, created), Has.Some.Contains("status 418 is not documented"));
    }
}
