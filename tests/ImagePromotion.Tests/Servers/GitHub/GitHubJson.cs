using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ImagePromotion.Tests.Servers.GitHub;

/// <summary>
/// Builds response bodies shaped as GitHub documents them (field names, nesting, nullability). The OpenAPI
/// conformance test checks every required field of these against GitHub's published description.
/// </summary>
internal sealed class GitHubJson(string webBase, string apiBase)
{
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static long UserId(string login) => 1000 + (BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(login.ToLowerInvariant()))) % 1_000_000);

    private static string NodeId(string kind, long id) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"0:{kind}{id}"));

    public JsonObject User(string login)
    {
        var id = UserId(login);
        var url = $"{apiBase}/users/{login}";
        return new JsonObject
        {
            ["login"] = login, ["id"] = id, ["node_id"] = NodeId("User", id),
            ["avatar_url"] = $"{webBase}/avatars/u/{id}", ["gravatar_id"] = "",
            ["url"] = url, ["html_url"] = $"{webBase}/{login}",
            ["followers_url"] = url + "/followers", ["following_url"] = url + "/following{/other_user}",
            ["gists_url"] = url + "/gists{/gist_id}", ["starred_url"] = url + "/starred{/owner}{/repo}",
            ["subscriptions_url"] = url + "/subscriptions", ["organizations_url"] = url + "/orgs",
            ["repos_url"] = url + "/repos", ["events_url"] = url + "/events{/privacy}",
            ["received_events_url"] = url + "/received_events",
            ["type"] = login.EndsWith("[bot]", StringComparison.Ordinal) ? "Bot" : "User", ["site_admin"] = false,
        };
    }

    public JsonObject Repository(GitHubRepositoryState repo)
    {
        var url = $"{apiBase}/repos/{repo.FullName}";
        var node = new JsonObject
        {
            ["id"] = repo.Id, ["node_id"] = NodeId("Repository", repo.Id), ["name"] = repo.Name, ["full_name"] = repo.FullName,
            ["owner"] = User(repo.Owner), ["private"] = true, ["html_url"] = $"{webBase}/{repo.FullName}",
            ["description"] = null, ["fork"] = false, ["url"] = url,
            ["clone_url"] = $"{webBase}/{repo.FullName}.git", ["git_url"] = $"git://{new Uri(webBase).Authority}/{repo.FullName}.git",
            ["ssh_url"] = $"git@{new Uri(webBase).Host}:{repo.FullName}.git", ["svn_url"] = $"{webBase}/{repo.FullName}",
            ["mirror_url"] = null, ["homepage"] = null, ["language"] = null, ["license"] = null,
            ["default_branch"] = repo.DefaultBranch, ["size"] = 0,
            ["forks"] = 0, ["forks_count"] = 0, ["stargazers_count"] = 0, ["watchers"] = 0, ["watchers_count"] = 0,
            ["open_issues"] = repo.Pulls.Count(p => p.State == "open"), ["open_issues_count"] = repo.Pulls.Count(p => p.State == "open"),
            ["has_issues"] = true, ["has_projects"] = false, ["has_wiki"] = false, ["has_pages"] = false, ["has_downloads"] = true,
            ["archived"] = false, ["disabled"] = false, ["visibility"] = "private",
            ["pushed_at"] = Time(DateTimeOffset.UtcNow), ["created_at"] = "2024-01-01T00:00:00Z", ["updated_at"] = Time(DateTimeOffset.UtcNow),
        };
        // The many *_url hypermedia templates GitHub puts on every repository.
        foreach (var (field, suffix) in new[]
        {
            ("archive_url", "/{archive_format}{/ref}"), ("assignees_url", "/assignees{/user}"), ("blobs_url", "/git/blobs{/sha}"),
            ("branches_url", "/branches{/branch}"), ("collaborators_url", "/collaborators{/collaborator}"), ("comments_url", "/comments{/number}"),
            ("commits_url", "/commits{/sha}"), ("compare_url", "/compare/{base}...{head}"), ("contents_url", "/contents/{+path}"),
            ("contributors_url", "/contributors"), ("deployments_url", "/deployments"), ("downloads_url", "/downloads"),
            ("events_url", "/events"), ("forks_url", "/forks"), ("git_commits_url", "/git/commits{/sha}"),
            ("git_refs_url", "/git/refs{/sha}"), ("git_tags_url", "/git/tags{/sha}"), ("hooks_url", "/hooks"),
            ("issue_comment_url", "/issues/comments{/number}"), ("issue_events_url", "/issues/events{/number}"), ("issues_url", "/issues{/number}"),
            ("keys_url", "/keys{/key_id}"), ("labels_url", "/labels{/name}"), ("languages_url", "/languages"),
            ("merges_url", "/merges"), ("milestones_url", "/milestones{/number}"), ("notifications_url", "/notifications{?since,all,participating}"),
            ("pulls_url", "/pulls{/number}"), ("releases_url", "/releases{/id}"), ("stargazers_url", "/stargazers"),
            ("statuses_url", "/statuses/{sha}"), ("subscribers_url", "/subscribers"), ("subscription_url", "/subscription"),
            ("tags_url", "/tags"), ("teams_url", "/teams"), ("trees_url", "/git/trees{/sha}"),
        })
            node[field] = url + suffix;
        return node;
    }

    // description is "" rather than null: pull-request-simple documents it as a non-nullable string.
    public JsonObject Label(GitHubRepositoryState repo, string name) => new()
    {
        ["id"] = LabelId(name), ["node_id"] = NodeId("Label", LabelId(name)),
        ["url"] = $"{apiBase}/repos/{repo.FullName}/labels/{Uri.EscapeDataString(name)}",
        ["name"] = name, ["description"] = "", ["color"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..6], ["default"] = false,
    };

    private static long LabelId(string name) => 5000 + (BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(name))) % 1_000_000);

    private static JsonObject Link(string href) => new() { ["href"] = href };

    private static JsonArray Array(IEnumerable<JsonNode> items) => new(items.ToArray<JsonNode?>());

    /// <summary>The full pull-request object; <paramref name="simple"/> gives pull-request-simple (lists, review requests).</summary>
    public JsonObject PullRequest(GitHubRepositoryState repo, GitHubPullState pr, bool simple = false)
    {
        var api = $"{apiBase}/repos/{repo.FullName}";
        var url = $"{api}/pulls/{pr.Number}";
        var html = $"{webBase}/{repo.FullName}/pull/{pr.Number}";
        var node = new JsonObject
        {
            ["url"] = url, ["id"] = pr.Id, ["node_id"] = NodeId("PullRequest", pr.Id), ["html_url"] = html,
            ["diff_url"] = html + ".diff", ["patch_url"] = html + ".patch", ["issue_url"] = $"{api}/issues/{pr.Number}",
            ["commits_url"] = url + "/commits", ["review_comments_url"] = url + "/comments", ["review_comment_url"] = $"{api}/pulls/comments{{/number}}",
            ["comments_url"] = $"{api}/issues/{pr.Number}/comments", ["statuses_url"] = $"{api}/statuses/{pr.HeadSha}",
            ["number"] = pr.Number, ["state"] = pr.State, ["locked"] = false, ["title"] = pr.Title, ["body"] = pr.Body,
            ["user"] = User(pr.Author),
            ["labels"] = Array(pr.Labels.Select(l => Label(repo, l))),
            ["milestone"] = null, ["active_lock_reason"] = null,
            ["created_at"] = Time(pr.CreatedAt), ["updated_at"] = Time(pr.UpdatedAt),
            ["closed_at"] = pr.ClosedAt is { } c ? Time(c) : null, ["merged_at"] = pr.Merged ? Time(pr.ClosedAt!.Value) : null,
            ["merge_commit_sha"] = pr.MergeCommitSha,
            ["assignee"] = pr.Assignees.Count > 0 ? User(pr.Assignees[0]) : null,
            ["assignees"] = Array(pr.Assignees.Select(User)),
            ["requested_reviewers"] = Array(pr.RequestedReviewers.Select(User)),
            ["requested_teams"] = new JsonArray(),
            ["head"] = Branch(repo, pr.HeadOwner, pr.HeadRef, pr.HeadSha),
            ["base"] = Branch(repo, repo.Owner, pr.BaseRef, pr.BaseSha),
            ["_links"] = new JsonObject
            {
                ["self"] = Link(url), ["html"] = Link(html), ["issue"] = Link($"{api}/issues/{pr.Number}"),
                ["comments"] = Link($"{api}/issues/{pr.Number}/comments"), ["review_comments"] = Link(url + "/comments"),
                ["review_comment"] = Link($"{api}/pulls/comments{{/number}}"), ["commits"] = Link(url + "/commits"),
                ["statuses"] = Link($"{api}/statuses/{pr.HeadSha}"),
            },
            ["author_association"] = "MEMBER", ["auto_merge"] = null, ["draft"] = pr.Draft,
        };
        if (simple) return node;
        var mergeable = pr.State == "open" ? pr.Refusal != MergeRefusal.Conflict : (bool?)null;
        node["merged"] = pr.Merged;
        node["mergeable"] = mergeable;
        node["rebaseable"] = mergeable;
        node["mergeable_state"] = pr.State != "open" ? "unknown" : pr.Refusal switch
        {
            MergeRefusal.Conflict => "dirty",
            MergeRefusal.ChecksPending or MergeRefusal.ReviewsMissing => "blocked",
            _ => "clean",
        };
        node["merged_by"] = pr.MergedBy is { } by ? User(by) : null;
        node["comments"] = 0;
        node["review_comments"] = 0;
        node["maintainer_can_modify"] = false;
        node["commits"] = 1;
        node["additions"] = 1;
        node["deletions"] = 1;
        node["changed_files"] = 1;
        return node;
    }

    private JsonObject Branch(GitHubRepositoryState repo, string owner, string branch, string sha) => new()
    {
        ["label"] = owner + ":" + branch, ["ref"] = branch, ["sha"] = sha, ["user"] = User(owner), ["repo"] = Repository(repo),
    };

    /// <summary>The issue view of a pull request (labels and assignees live on the issue).</summary>
    public JsonObject Issue(GitHubRepositoryState repo, GitHubPullState pr)
    {
        var api = $"{apiBase}/repos/{repo.FullName}";
        var url = $"{api}/issues/{pr.Number}";
        var html = $"{webBase}/{repo.FullName}/pull/{pr.Number}";
        return new JsonObject
        {
            ["id"] = pr.Id, ["node_id"] = NodeId("Issue", pr.Id), ["url"] = url, ["repository_url"] = api,
            ["labels_url"] = url + "/labels{/name}", ["comments_url"] = url + "/comments", ["events_url"] = url + "/events",
            ["html_url"] = html, ["number"] = pr.Number, ["state"] = pr.State, ["title"] = pr.Title, ["body"] = pr.Body,
            ["user"] = User(pr.Author), ["labels"] = Array(pr.Labels.Select(l => Label(repo, l))),
            ["assignee"] = pr.Assignees.Count > 0 ? User(pr.Assignees[0]) : null, ["assignees"] = Array(pr.Assignees.Select(User)),
            ["milestone"] = null, ["locked"] = false, ["comments"] = 0,
            ["pull_request"] = new JsonObject
            {
                ["url"] = $"{api}/pulls/{pr.Number}", ["html_url"] = html, ["diff_url"] = html + ".diff", ["patch_url"] = html + ".patch",
                ["merged_at"] = pr.Merged ? Time(pr.ClosedAt!.Value) : null,
            },
            ["closed_at"] = pr.ClosedAt is { } c ? Time(c) : null, ["created_at"] = Time(pr.CreatedAt), ["updated_at"] = Time(pr.UpdatedAt),
            ["author_association"] = "MEMBER",
        };
    }

    public JsonObject Review(GitHubRepositoryState repo, GitHubPullState pr, GitHubReviewState review)
    {
        var html = $"{webBase}/{repo.FullName}/pull/{pr.Number}#pullrequestreview-{review.Id}";
        var pullUrl = $"{apiBase}/repos/{repo.FullName}/pulls/{pr.Number}";
        return new JsonObject
        {
            ["id"] = review.Id, ["node_id"] = NodeId("PullRequestReview", review.Id), ["user"] = User(review.Login),
            ["body"] = review.Body, ["state"] = review.State, ["html_url"] = html, ["pull_request_url"] = pullUrl,
            ["_links"] = new JsonObject { ["html"] = Link(html), ["pull_request"] = Link(pullUrl) },
            ["submitted_at"] = Time(review.SubmittedAt), ["commit_id"] = review.CommitId, ["author_association"] = "MEMBER",
        };
    }

    public static JsonObject Error(string message, int status, JsonArray? errors = null)
    {
        var node = new JsonObject { ["message"] = message };
        if (errors != null) node["errors"] = errors;
        node["documentation_url"] = "https://docs.github.com/rest";
        node["status"] = status.ToString(CultureInfo.InvariantCulture);
        return node;
    }
}
