using System.Net;
using ImagePromotion.Logging;
using Octokit;

namespace ImagePromotion.GitOps.PullRequests;

/// <summary>Turns Octokit's exceptions into one-line messages that say what to fix.</summary>
internal static class GitHubApiErrors
{
    public static string Describe(ApiException e)
    {
        var message = e.ApiError?.Message ?? e.Message;
        var details = e.ApiError?.Errors?.Select(x => x.Message ?? string.Join(' ', new[] { x.Resource, x.Field, x.Code }.Where(s => !string.IsNullOrEmpty(s))))
            .Where(s => !string.IsNullOrWhiteSpace(s)).ToArray() ?? [];
        if (details.Length > 0) message += ": " + string.Join("; ", details);
        return SecretRedactor.Shared.Redact(message).Replace('\n', ' ').Replace('\r', ' ').Trim();
    }

    public static PromotionException ToPromotionException(Exception e, string operation, GitHubRepositoryOptions options)
    {
        var where = $"GitHub {operation} on {options.FullName}";
        return e switch
        {
            ApiException { StatusCode: HttpStatusCode.Unauthorized } api =>
                new PromotionException($"{where} failed (401 {Describe(api)}); the GitHub token is missing, expired or revoked: issue a new one.", e),
            ApiException { StatusCode: HttpStatusCode.Forbidden } api =>
                new PromotionException($"{where} failed (403 {Describe(api)}); give the token 'pull-requests: write' and 'issues: write' on {options.FullName}.", e),
            ApiException { StatusCode: HttpStatusCode.NotFound } api =>
                new PromotionException($"{where} failed (404 {Describe(api)}); check the owner/repository names and that the token can see {options.FullName}.", e),
            ApiException api =>
                new PromotionException($"{where} failed ({(int)api.StatusCode} {Describe(api)}).", e),
            HttpRequestException http =>
                new PromotionException($"{where} failed: cannot reach {options.BaseUrl ?? "https://api.github.com"} ({SecretRedactor.Shared.Redact(http.Message)}); check the GitHub base URL and the network.", e),
            _ => new PromotionException($"{where} failed: {SecretRedactor.Shared.Redact(e.Message)}", e),
        };
    }
}
