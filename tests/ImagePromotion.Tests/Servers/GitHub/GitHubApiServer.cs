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

    private GitHubApiServer(string token)
    {
        Token = token;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            var authorization = context.Request.Headers.Authorization.ToString();
            var presented = authorization.Split(' ', 2) is [var scheme, var value] && scheme.ToLowerInvariant() is "token" or "bearer" ? value : null;
            if (presented != Token)
            {
                await Write(context, 401, GitHubJson.Error("Bad credentials", 401));
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
