using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ImagePromotion.Tests.Servers.GitHub;

public sealed partial class GitHubApiServer
{
    private const string Repo = "/api/v3/repos/{owner}/{repo}";

    private void MapEndpoints(IEndpointRouteBuilder app)
    {
        app.MapGet(Repo + "/pulls", context => Handle(context, ListPulls));
        app.MapPost(Repo + "/pulls", context => Handle(context, CreatePull));
        app.MapGet(Repo + "/pulls/{number:int}", context => Handle(context, (repo, body, ctx) => WithPull(repo, ctx, pr => (200, _json.PullRequest(repo, pr)))));
        app.MapMethods(Repo + "/pulls/{number:int}", ["PATCH"], context => Handle(context, UpdatePull));
        app.MapPost(Repo + "/issues/{number:int}/labels", context => Handle(context, AddLabels));
        app.MapPost(Repo + "/pulls/{number:int}/requested_reviewers", context => Handle(context, RequestReviewers));
        app.MapPost(Repo + "/issues/{number:int}/assignees", context => Handle(context, AddAssignees));
        app.MapPut(Repo + "/pulls/{number:int}/merge", context => Handle(context, Merge));
        app.MapGet(Repo + "/pulls/{number:int}/reviews", context => Handle(context, (repo, body, ctx) =>
            WithPull(repo, ctx, pr => (200, new JsonArray(pr.Reviews.Select(r => (JsonNode?)_json.Review(repo, pr, r)).ToArray())))));
    }

    private delegate (int Status, JsonNode Body) Endpoint(GitHubRepositoryState repo, JsonNode? body, HttpContext context);

    private async Task Handle(HttpContext context, Endpoint endpoint)
    {
        JsonNode? body = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try { body = await JsonNode.ParseAsync(context.Request.Body); }
            catch (JsonException) { await Write(context, 400, GitHubJson.Error("Problems parsing JSON", 400)); return; }
        }
        (int Status, JsonNode Body) response;
        lock (_gate)
        {
            var key = context.GetRouteValue("owner") + "/" + context.GetRouteValue("repo");
            response = _repositories.TryGetValue(key, out var repo) ? endpoint(repo, body, context) : (404, GitHubJson.Error("Not Found", 404));
        }
        await Write(context, response.Status, response.Body);
    }

    private (int, JsonNode) WithPull(GitHubRepositoryState repo, HttpContext context, Func<GitHubPullState, (int, JsonNode)> action)
    {
        var number = int.Parse((string)context.GetRouteValue("number")!);
        var pr = repo.Pulls.FirstOrDefault(p => p.Number == number);
        if (pr != null) Follow(repo, pr);
        return pr == null ? (404, GitHubJson.Error("Not Found", 404)) : action(pr);
    }

    /// <summary>GitHub moves an open pull request's head with its branch (a push, a force push).</summary>
    private static void Follow(GitHubRepositoryState repo, GitHubPullState pr)
    {
        if (repo.BarePath != null && pr.State == "open" && BareGit.Head(repo.BarePath, pr.HeadRef) is { } head) pr.HeadSha = head;
    }

    private static (int, JsonNode) Invalid(string resource, string field, string code, string? message = null)
    {
        var error = new JsonObject { ["resource"] = resource, ["field"] = field, ["code"] = code };
        if (message != null) error["message"] = message;
        return (422, GitHubJson.Error("Validation Failed", 422, [error]));
    }

    private (int, JsonNode) ListPulls(GitHubRepositoryState repo, JsonNode? _, HttpContext context)
    {
        var query = context.Request.Query;
        var state = query["state"].FirstOrDefault() ?? "open";
        if (state is not ("open" or "closed" or "all")) return Invalid("PullRequest", "state", "invalid");
        foreach (var pr in repo.Pulls) Follow(repo, pr);
        IEnumerable<GitHubPullState> pulls = repo.Pulls;
        if (state != "all") pulls = pulls.Where(p => p.State == state);
        if (query["head"].FirstOrDefault() is { Length: > 0 } head)
        {
            // GitHub's filter is "user:ref-name"; a bare branch name matches nothing.
            var parts = head.Split(':', 2);
            pulls = parts.Length == 2 ? pulls.Where(p => p.HeadOwner.Equals(parts[0], StringComparison.OrdinalIgnoreCase) && p.HeadRef == parts[1]) : [];
        }
        if (query["base"].FirstOrDefault() is { Length: > 0 } baseRef) pulls = pulls.Where(p => p.BaseRef == baseRef);
        var ordered = query["direction"].FirstOrDefault() == "asc" ? pulls.OrderBy(p => p.Number) : pulls.OrderByDescending(p => p.Number);
        var answer = new JsonArray(ordered.Select(p => (JsonNode?)_json.PullRequest(repo, p, simple: true)).ToArray());
        if (_concurrentOpen is { } other && other.Owner + "/" + other.Name == repo.FullName)
        {
            // Another run of the same promotion opens its pull request just after our lookup.
            _concurrentOpen = null;
            repo.Pulls.Add(new GitHubPullState
            {
                Id = ++_nextId, Number = repo.Pulls.Count + 1, Title = "Opened by a concurrent run", Body = "",
                HeadRef = other.Head, HeadOwner = repo.Owner, HeadSha = FakeSha(other.Head), BaseRef = other.Base, BaseSha = FakeSha(other.Base),
                Author = TokenOwner,
            });
        }
        return (200, answer);
    }

    private (int, JsonNode) CreatePull(GitHubRepositoryState repo, JsonNode? body, HttpContext context)
    {
        var title = (string?)body?["title"];
        var head = (string?)body?["head"];
        var baseRef = (string?)body?["base"];
        if (string.IsNullOrEmpty(title)) return Invalid("PullRequest", "title", "missing_field");
        if (string.IsNullOrEmpty(head)) return Invalid("PullRequest", "head", "missing_field");
        if (string.IsNullOrEmpty(baseRef)) return Invalid("PullRequest", "base", "missing_field");
        var headOwner = head.Contains(':') ? head.Split(':', 2)[0] : repo.Owner;
        var headRef = head.Contains(':') ? head.Split(':', 2)[1] : head;
        if (repo.Pulls.Any(p => p.State == "open" && p.HeadRef == headRef && p.HeadOwner.Equals(headOwner, StringComparison.OrdinalIgnoreCase) && p.BaseRef == baseRef))
            return (422, GitHubJson.Error("Validation Failed", 422, [new JsonObject { ["resource"] = "PullRequest", ["code"] = "custom", ["message"] = $"A pull request already exists for {headOwner}:{headRef}." }]));

        string headSha, baseSha;
        if (repo.BarePath != null)
        {
            var h = BareGit.Head(repo.BarePath, headRef);
            var b = BareGit.Head(repo.BarePath, baseRef);
            if (b == null) return Invalid("PullRequest", "base", "invalid");
            if (h == null) return Invalid("PullRequest", "head", "invalid");
            if (BareGit.TryRun(repo.BarePath, "merge-base", "--is-ancestor", h, b).ExitCode == 0)
                return (422, GitHubJson.Error("Validation Failed", 422, [new JsonObject { ["resource"] = "PullRequest", ["code"] = "custom", ["message"] = $"No commits between {baseRef} and {headRef}" }]));
            (headSha, baseSha) = (h, b);
        }
        else
        {
            (headSha, baseSha) = (FakeSha(repo.FullName + headRef + _nextId), FakeSha(repo.FullName + baseRef));
        }

        var pr = new GitHubPullState
        {
            Id = ++_nextId, Number = repo.Pulls.Count + 1, Title = title, Body = (string?)body?["body"],
            HeadRef = headRef, HeadOwner = headOwner, HeadSha = headSha, BaseRef = baseRef, BaseSha = baseSha,
            Author = TokenOwner, Draft = body?["draft"]?.GetValue<bool>() ?? false,
        };
        repo.Pulls.Add(pr);
        context.Response.Headers.Location = $"{ApiUrl}/repos/{repo.FullName}/pulls/{pr.Number}";
        return (201, _json.PullRequest(repo, pr));
    }

    private (int, JsonNode) UpdatePull(GitHubRepositoryState repo, JsonNode? body, HttpContext context) => WithPull(repo, context, pr =>
    {
        if (body?["title"] is { } title) pr.Title = (string)title!;
        if (body?["body"] is { } text) pr.Body = (string?)text;
        if (body?["base"] is { } baseRef) pr.BaseRef = (string)baseRef!;
        if (body?["state"] is { } state)
        {
            var value = (string?)state;
            if (value is not ("open" or "closed")) return Invalid("PullRequest", "state", "invalid");
            if (!pr.Merged) { pr.State = value; pr.ClosedAt = value == "closed" ? DateTimeOffset.UtcNow : null; }
        }
        pr.UpdatedAt = DateTimeOffset.UtcNow;
        return (200, _json.PullRequest(repo, pr));
    });

    private (int, JsonNode) AddLabels(GitHubRepositoryState repo, JsonNode? body, HttpContext context) => WithPull(repo, context, pr =>
    {
        // GitHub takes either ["a","b"] or {"labels":["a","b"]}; Octokit sends the bare array.
        var labels = body is JsonArray array ? array : body?["labels"] as JsonArray;
        if (labels == null) return Invalid("Label", "labels", "missing_field");
        foreach (var name in labels.Select(l => (string?)l).OfType<string>())
            if (!pr.Labels.Contains(name)) pr.Labels.Add(name);
        pr.UpdatedAt = DateTimeOffset.UtcNow;
        return (200, new JsonArray(pr.Labels.Select(l => (JsonNode?)_json.Label(repo, l)).ToArray()));
    });

    private (int, JsonNode) RequestReviewers(GitHubRepositoryState repo, JsonNode? body, HttpContext context) => WithPull(repo, context, pr =>
    {
        var reviewers = (body?["reviewers"] as JsonArray)?.Select(r => (string?)r).OfType<string>().ToList() ?? [];
        var teams = (body?["team_reviewers"] as JsonArray)?.Count ?? 0;
        if (reviewers.Count == 0 && teams == 0) return Invalid("PullRequest", "reviewers", "missing_field");
        if (reviewers.Any(r => r.Equals(pr.Author, StringComparison.OrdinalIgnoreCase)))
            return (422, GitHubJson.Error("Review cannot be requested from pull request author.", 422));
        foreach (var r in reviewers)
            if (!pr.RequestedReviewers.Contains(r, StringComparer.OrdinalIgnoreCase)) pr.RequestedReviewers.Add(r);
        return (201, _json.PullRequest(repo, pr, simple: true));
    });

    private (int, JsonNode) AddAssignees(GitHubRepositoryState repo, JsonNode? body, HttpContext context) => WithPull(repo, context, pr =>
    {
        // Like GitHub, people who cannot be assigned are silently ignored; that is not modelled here.
        foreach (var a in (body?["assignees"] as JsonArray)?.Select(x => (string?)x).OfType<string>() ?? [])
            if (!pr.Assignees.Contains(a, StringComparer.OrdinalIgnoreCase)) pr.Assignees.Add(a);
        return (201, _json.Issue(repo, pr));
    });

    private (int, JsonNode) Merge(GitHubRepositoryState repo, JsonNode? body, HttpContext context) => WithPull(repo, context, pr =>
    {
        var method = (string?)body?["merge_method"] ?? "merge";
        if (method is not ("merge" or "squash" or "rebase")) return Invalid("PullRequest", "merge_method", "invalid");
        if (repo.BarePath != null && BareGit.Head(repo.BarePath, pr.HeadRef) is { } realHead) pr.HeadSha = realHead;
        if (pr.State != "open") return (405, GitHubJson.Error("Pull Request is not mergeable", 405));
        if ((string?)body?["sha"] is { } expected && expected != pr.HeadSha)
            return (409, GitHubJson.Error("Head branch was modified. Review and try the merge again.", 409));
        var approved = pr.Reviews.Any(r => r.State == "APPROVED" && r.CommitId == pr.HeadSha);
        switch (pr.Refusal)
        {
            case MergeRefusal.ChecksPending:
                return (405, GitHubJson.Error("Required status check \"ci/build\" is expected.", 405));
            case MergeRefusal.ReviewsMissing when !approved:
                return (405, GitHubJson.Error("At least 1 approving review is required by reviewers with write access.", 405));
            case MergeRefusal.Conflict:
                return (405, GitHubJson.Error("Pull Request is not mergeable", 405));
        }

        var title = (string?)body?["commit_title"] ?? $"{pr.Title} (#{pr.Number})";
        var message = (string?)body?["commit_message"] ?? pr.Body ?? "";
        string sha;
        if (repo.BarePath != null)
        {
            pr.BaseSha = BareGit.Head(repo.BarePath, pr.BaseRef) ?? pr.BaseSha;
            var merged = BareGit.Merge(repo.BarePath, pr.BaseRef, pr.BaseSha, pr.HeadSha, method, title, message);
            if (merged == null) return (405, GitHubJson.Error("Pull Request is not mergeable", 405));
            sha = merged;
        }
        else
        {
            sha = FakeSha(pr.HeadSha + method);
        }
        pr.Merged = true;
        pr.MergeMethod = method;
        pr.MergeCommitSha = sha;
        pr.MergedBy = TokenOwner;
        pr.State = "closed";
        pr.ClosedAt = pr.UpdatedAt = DateTimeOffset.UtcNow;
        return (200, new JsonObject { ["sha"] = sha, ["merged"] = true, ["message"] = "Pull Request successfully merged" });
    });
}
