using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePromotion.Tests.Servers.GitHub;

/// <summary>
/// GitHub's REST API for pull requests, on 127.0.0.1, under <c>/api/v3</c> like GitHub Enterprise Server
/// (Octokit appends that path to any non-github.com base address). Only the endpoints the promotion uses,
/// with GitHub's status codes and bodies; state in memory. Repositories may be backed by a bare git
/// repository, in which case head shas are real and merges really land on the base branch.
/// </summary>
public sealed partial class GitHubApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly Dictionary<string, GitHubRepositoryState> _repositories = new(StringComparer.OrdinalIgnoreCase);
    private long _nextId = 1_000_000;
    private GitHubJson _json = null!;

    /// <summary>"METHOD /path?query" of every request, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();
    public string Token { get; }
    /// <summary>The login the token belongs to: the author of pull requests it opens.</summary>
    public string TokenOwner { get; init; } = "promotion-bot";
    /// <summary>The address to hand Octokit; it appends /api/v3/.</summary>
    public string BaseUrl { get; private set; } = "";
    public string ApiUrl => BaseUrl + "api/v3";
    /// <summary>The same API is also served under this prefix, as a reverse proxy in front of GHES might.</summary>
    public const string PathPrefix = "/github";

    private GitHubApiServer(string token)
    {
        Token = token;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        // A GitHub Enterprise Server behind a proxy that serves it under a path prefix.
        _app.UsePathBase(PathPrefix);
        // Routing after the prefix is stripped (WebApplication would otherwise route first).
        _app.UseRouting();
        _app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}");
            var authorization = context.Request.Headers.Authorization.ToString();
            var presented = authorization.Split(' ', 2) is [var scheme, var value] && scheme.ToLowerInvariant() is "token" or "bearer" ? value : null;
            if (presented != Token)
            {
                await Write(context, 401, GitHubJson.Error("Bad credentials", 401));
                return;
            }
            RateLimitAnswer? limited = null;
            lock (_gate)
            {
                if (_rateLimited.Count > 0 && _rateLimited.Peek().Applies(context.Request.Method)) limited = _rateLimited.Dequeue();
            }
            if (limited != null)
            {
                await limited.WriteAsync(context);
                return;
            }
            await next(context);
        });
        MapEndpoints(_app);
        _app.MapFallback(context => Write(context, 404, GitHubJson.Error("Not Found", 404)));
    }

    public static async Task<GitHubApiServer> StartAsync(string token = "ghs_test_token_0123456789")
    {
        var server = new GitHubApiServer(token);
        await server._app.StartAsync();
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = address.TrimEnd('/') + "/";
        server._json = new GitHubJson(address.TrimEnd('/'), address.TrimEnd('/') + "/api/v3");
        return server;
    }

    public GitHubRepositoryState AddRepository(string owner, string name, string? barePath = null, string defaultBranch = "main")
    {
        lock (_gate)
        {
            var repo = new GitHubRepositoryState(owner, name, ++_nextId, barePath) { DefaultBranch = defaultBranch };
            _repositories[repo.FullName] = repo;
            return repo;
        }
    }

    /// <summary>A snapshot-free view for assertions; read it only between requests.</summary>
    public IReadOnlyList<GitHubPullState> Pulls(string owner, string name)
    {
        lock (_gate) return _repositories[owner + "/" + name].Pulls.ToArray();
    }

    /// <summary>Test hook: the next merges of this pull request are refused the way branch protection refuses them.</summary>
    public void RefuseMerges(string owner, string name, int number, MergeRefusal refusal)
    {
        lock (_gate) Find(owner, name, number)!.Refusal = refusal;
    }

    /// <summary>Test hook: a reviewer submits a review (APPROVED, CHANGES_REQUESTED, COMMENTED) on the current head.</summary>
    public GitHubReviewState AddReview(string owner, string name, int number, string login, string state, string? commitId = null, string body = "")
    {
        lock (_gate)
        {
            var pr = Find(owner, name, number)!;
            var review = new GitHubReviewState(++_nextId, login, GitHubJson.UserId(login), state, commitId ?? pr.HeadSha, body, DateTimeOffset.UtcNow);
            pr.Reviews.Add(review);
            pr.RequestedReviewers.RemoveAll(r => r.Equals(login, StringComparison.OrdinalIgnoreCase));
            return review;
        }
    }

    /// <summary>Test hook: someone pushed to the head branch (head sha changes, stale merges get 409).</summary>
    public void MoveHead(string owner, string name, int number, string sha)
    {
        lock (_gate) Find(owner, name, number)!.HeadSha = sha;
    }

    private readonly Queue<RateLimitAnswer> _rateLimited = new();
    private (string Owner, string Name, string Head, string Base)? _concurrentOpen;

    /// <summary>
    /// Test hook: the next request (or the next <paramref name="method"/> request) is refused by GitHub's primary
    /// rate limit: 403, <c>x-ratelimit-remaining: 0</c> and <c>x-ratelimit-reset</c> <paramref name="resetIn"/> from now.
    /// </summary>
    public void PrimaryRateLimitNext(TimeSpan resetIn, string? method = null)
    {
        lock (_gate) _rateLimited.Enqueue(new RateLimitAnswer(method, Primary: true, resetIn));
    }

    /// <summary>
    /// Test hook: the next request (or the next <paramref name="method"/> request) hits a secondary rate limit:
    /// 403 with GitHub's message, and <c>Retry-After</c> when <paramref name="retryAfter"/> is given.
    /// </summary>
    public void SecondaryRateLimitNext(TimeSpan? retryAfter, string? method = null)
    {
        lock (_gate) _rateLimited.Enqueue(new RateLimitAnswer(method, Primary: false, retryAfter));
    }

    /// <summary>Test hook: right after the next pull request list is answered, another run opens a pull request for <paramref name="head"/>.</summary>
    public void OpenConcurrentlyAfterNextList(string owner, string name, string head, string baseRef)
    {
        lock (_gate) _concurrentOpen = (owner, name, head, baseRef);
    }

    private GitHubPullState? Find(string owner, string name, int number) =>
        _repositories.TryGetValue(owner + "/" + name, out var repo) ? repo.Pulls.FirstOrDefault(p => p.Number == number) : null;

    private static string FakeSha(string seed) => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(seed)));

    private static async Task Write(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers["X-GitHub-Media-Type"] = "github.v3; format=json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    /// <summary>A rate-limit refusal shaped as GitHub documents it ("Rate limits for the REST API").</summary>
    private sealed record RateLimitAnswer(string? Method, bool Primary, TimeSpan? Wait)
    {
        public bool Applies(string method) => Method == null || Method.Equals(method, StringComparison.OrdinalIgnoreCase);

        public async Task WriteAsync(HttpContext context)
        {
            var headers = context.Response.Headers;
            headers["x-ratelimit-limit"] = "5000";
            headers["x-ratelimit-resource"] = "core";
            if (Primary)
            {
                headers["x-ratelimit-remaining"] = "0";
                headers["x-ratelimit-used"] = "5000";
                headers["x-ratelimit-reset"] = DateTimeOffset.UtcNow.Add(Wait ?? TimeSpan.Zero).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Write(context, 403, GitHubJson.Error("API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.", 403));
                return;
            }
            headers["x-ratelimit-remaining"] = "4990";
            if (Wait is { } wait) headers["retry-after"] = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Write(context, 403, GitHubJson.Error("You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.", 403));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
