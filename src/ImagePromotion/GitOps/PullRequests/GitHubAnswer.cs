using System.Globalization;
using System.Net;
using ImagePromotion.Logging;
using Octokit;

namespace ImagePromotion.GitOps.PullRequests;

/// <summary>What a GitHub error answer means, decided once for every call.</summary>
public enum GitHubAnswerKind
{
    /// <summary>The token's primary rate limit is used up (<c>x-ratelimit-remaining: 0</c>); it resets at <c>x-ratelimit-reset</c>.</summary>
    RateLimit,
    /// <summary>A secondary rate limit (<c>Retry-After</c>, or GitHub's message "secondary rate limit"): wait, then retry.</summary>
    SecondaryRateLimit,
    /// <summary>401: the token is missing, expired or revoked.</summary>
    Unauthorized,
    /// <summary>403 that is not a rate limit: the token may not do this.</summary>
    Permission,
    /// <summary>404: no such repository or pull request, or the token cannot see it, or the API base URL is wrong.</summary>
    NotFound,
    /// <summary>405: GitHub will not do it now (a merge with checks pending, reviews missing or a conflict).</summary>
    NotAllowed,
    /// <summary>409: the state moved (a merge of a head that changed).</summary>
    Conflict,
    /// <summary>422 saying the thing already exists (e.g. "A pull request already exists for owner:branch").</summary>
    AlreadyExists,
    /// <summary>422 otherwise: the request was understood but refused.</summary>
    Validation,
    /// <summary>5xx: GitHub's side.</summary>
    ServerError,
    /// <summary>Anything else.</summary>
    Other,
}

/// <summary>
/// One classification of GitHub's error answers, from the status, the headers and the message, following
/// GitHub's documentation of rate limits ("Rate limits for the REST API": a primary limit answers 403 or 429
/// with <c>x-ratelimit-remaining: 0</c> and the reset time in <c>x-ratelimit-reset</c>, UTC epoch seconds; a
/// secondary limit answers 403 or 429 with <c>retry-after</c> seconds, or with neither, in which case one waits
/// at least a minute). <see cref="RetryAt"/> is when trying again makes sense, for rate limits.
/// </summary>
public sealed record GitHubAnswer(GitHubAnswerKind Kind, int Status, string Message, DateTimeOffset? RetryAt)
{
    /// <summary>GitHub's advice when a secondary limit gives no time: wait at least one minute.</summary>
    public static readonly TimeSpan SecondaryDefaultWait = TimeSpan.FromMinutes(1);

    /// <summary>True for a primary or a secondary rate limit: waiting until <see cref="RetryAt"/> may help.</summary>
    public bool IsRateLimit => Kind is GitHubAnswerKind.RateLimit or GitHubAnswerKind.SecondaryRateLimit;

    /// <summary>Classifies an Octokit error answer by status, rate-limit headers and message.</summary>
    /// <param name="e">The error Octokit raised.</param>
    /// <param name="now">The current time, from which a <c>Retry-After</c> delay is counted.</param>
    public static GitHubAnswer Classify(ApiException e, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(e);
        var status = (int)e.StatusCode;
        var message = Describe(e);
        string? Header(string name) => e.HttpResponse?.Headers?.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        var rateLimited = status is 403 or 429;
        if (rateLimited && Header("x-ratelimit-remaining") == "0")
        {
            var reset = long.TryParse(Header("x-ratelimit-reset"), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
                ? DateTimeOffset.FromUnixTimeSeconds(epoch) : now + SecondaryDefaultWait;
            return new(GitHubAnswerKind.RateLimit, status, message, reset);
        }
        if (rateLimited && int.TryParse(Header("retry-after"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return new(GitHubAnswerKind.SecondaryRateLimit, status, message, now + TimeSpan.FromSeconds(seconds));
        if (rateLimited && (status == 429 || message.Contains("rate limit", StringComparison.OrdinalIgnoreCase) || message.Contains("abuse", StringComparison.OrdinalIgnoreCase)))
            return new(message.Contains("secondary", StringComparison.OrdinalIgnoreCase) || status == 429 ? GitHubAnswerKind.SecondaryRateLimit : GitHubAnswerKind.RateLimit,
                status, message, now + SecondaryDefaultWait);
        var kind = status switch
        {
            401 => GitHubAnswerKind.Unauthorized,
            403 => GitHubAnswerKind.Permission,
            404 => GitHubAnswerKind.NotFound,
            405 => GitHubAnswerKind.NotAllowed,
            409 => GitHubAnswerKind.Conflict,
            422 when message.Contains("already exists", StringComparison.OrdinalIgnoreCase) => GitHubAnswerKind.AlreadyExists,
            422 => GitHubAnswerKind.Validation,
            >= 500 => GitHubAnswerKind.ServerError,
            _ => GitHubAnswerKind.Other,
        };
        return new(kind, status, message, null);
    }

    /// <summary>GitHub's message and error details on one line, with secrets redacted.</summary>
    public static string Describe(ApiException e)
    {
        var message = e.ApiError?.Message ?? e.Message;
        var details = e.ApiError?.Errors?.Select(x => x.Message ?? string.Join(' ', new[] { x.Resource, x.Field, x.Code }.Where(s => !string.IsNullOrEmpty(s))))
            .Where(s => !string.IsNullOrWhiteSpace(s)).ToArray() ?? [];
        if (details.Length > 0) message += ": " + string.Join("; ", details);
        return SecretRedactor.Shared.Redact(message).Replace('\n', ' ').Replace('\r', ' ').Trim();
    }

    /// <summary>
    /// The one-line error for this answer: what GitHub said, what it means and what to do, with the reset or
    /// retry time for rate limits. <paramref name="waitBound"/> is how long this run was allowed to wait.
    /// </summary>
    public PromotionException ToException(string operation, GitHubRepositoryOptions options, Uri apiBase, DateTimeOffset now, TimeSpan waitBound, Exception inner)
    {
        var where = $"GitHub {operation} on {options.FullName} failed ({Status} {Message})";
        var text = Kind switch
        {
            GitHubAnswerKind.RateLimit =>
                $"{where}: the token's API rate limit is used up; it resets at {When(RetryAt, now)}, beyond the {Seconds(waitBound)} this run waits for a rate limit; re-run after then, or raise the wait bound (GitHubRepositoryOptions.MaxRateLimitWait).",
            GitHubAnswerKind.SecondaryRateLimit =>
                $"{where}: GitHub's secondary rate limit (too many requests or too much content creation at once); retry after {When(RetryAt, now)}, beyond the {Seconds(waitBound)} this run waits for a rate limit; re-run then, and spread concurrent promotions out.",
            GitHubAnswerKind.Unauthorized =>
                $"{where}: the GitHub token is missing, expired or revoked: issue a new one.",
            GitHubAnswerKind.Permission =>
                $"{where}: the token may not do this: give it 'pull-requests: write' and 'issues: write' on {options.FullName} (a fine-grained token or GitHub App needs the repository selected).",
            GitHubAnswerKind.NotFound =>
                $"{where}: check the owner/repository names, that the token can see {options.FullName}, and the API base URL ({apiBase}).",
            GitHubAnswerKind.AlreadyExists => $"{where}: it already exists.",
            GitHubAnswerKind.Validation => $"{where}: GitHub refused the request as invalid.",
            GitHubAnswerKind.Conflict => $"{where}: the state changed meanwhile; re-run the promotion.",
            GitHubAnswerKind.NotAllowed => $"{where}: GitHub will not do this now.",
            GitHubAnswerKind.ServerError => $"{where}: GitHub's side failed; re-run later.",
            _ => $"{where}.",
        };
        return new PromotionException(text, inner) { Transient = IsRateLimit || Kind == GitHubAnswerKind.ServerError };
    }

    internal static string When(DateTimeOffset? at, DateTimeOffset now)
    {
        if (at is not { } time) return "an unknown time";
        var wait = time - now;
        return $"{time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z (in {Seconds(wait < TimeSpan.Zero ? TimeSpan.Zero : wait)})";
    }

    internal static string Seconds(TimeSpan span) => Math.Ceiling(span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + " s";
}
