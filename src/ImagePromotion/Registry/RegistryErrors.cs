using System.Net;
using System.Text.Json;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Registry;

/// <summary>
/// Turns a registry's error answer into a <see cref="RegistryException"/>: status, OCI error code, operation,
/// repository, <c>Retry-After</c>, whether trying again may help, and one line saying what to do.
/// </summary>
internal static class RegistryErrors
{
    public static RegistryException From(HttpResponseMessage response, RegistryOperation operation, string registry,
        string repository, string what, RegistryCredential credential)
    {
        var (code, message) = ErrorOf(response);
        var detail = code is null && message is null ? "" : $" ({code}: {message})";
        var status = response.StatusCode;
        var fix = status switch
        {
            // Token registries answer a missing permission with 401 too; the challenge's error tells it from a bad password.
            HttpStatusCode.Unauthorized when !credential.IsAnonymous && InsufficientScope(response) is { } scope =>
                $"the {credential} may not {ScopeAction(scope, repository)} (the token service granted less than '{scope}'): grant that access or use other credentials",
            HttpStatusCode.Unauthorized => credential.IsAnonymous
                ? $"no credentials were found for {registry}: set {CredentialStore.EnvironmentPrefix(registry)}USERNAME and {CredentialStore.EnvironmentPrefix(registry)}PASSWORD, or run docker login {registry}"
                : $"the {credential} were refused: check the user name and password",
            HttpStatusCode.Forbidden => $"the {(credential.IsAnonymous ? "anonymous user" : credential.ToString())} may not do this in {repository}: grant access or use other credentials",
            HttpStatusCode.TooManyRequests => "the registry is rate-limiting: try again later or authenticate for a higher limit",
            _ when operation == RegistryOperation.WriteManifest && IsImmutableTag(status, code) =>
                "the registry keeps this tag immutable (ECR, Harbor and Artifactory can enforce that): promote under a new tag, or let the registry allow overwriting it",
            _ when (int)status >= 500 => "the registry failed: try again later",
            _ => "check the reference and the registry",
        };
        return new RegistryException($"registry {registry} refused to {what}: {(int)status} {response.ReasonPhrase}{detail}; {fix}",
            registry, repository, operation, status, code)
        {
            RetryAfter = RegistryRetry.RetryAfter(response),
            // A bearer token refused on a streamed upload (not replayable, so the auth handler could not retry
            // it) most often expired on the wire; the handler has dropped it, so a fresh attempt gets a new one.
            Transient = RegistryRetry.IsRetryableStatus(status)
                || status == HttpStatusCode.Unauthorized && response.RequestMessage?.Content is { } body
                   && !RetryHandler.IsReplayable(body) && response.RequestMessage.Headers.Authorization?.Scheme == "Bearer",
        };
    }

    /// <summary>ECR's 400 TAG_INVALID (aws/containers-roadmap#2179), Harbor's 412 (goharbor/harbor#9427), a 409 conflict.</summary>
    public static bool IsImmutableTag(HttpStatusCode status, string? code) =>
        code == RegistryErrorCodes.TagInvalid || status is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict;

    /// <summary>The first error of an OCI error body (<c>{"errors":[{"code":…,"message":…}]}</c>), if the body is one.</summary>
    private static (string? Code, string? Message) ErrorOf(HttpResponseMessage response)
    {
        try
        {
            using var stream = response.Content.ReadAsStream();
            var bytes = new byte[BodyLimits.Small + 1];
            var n = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (n == 0 || n > BodyLimits.Small) return (null, null);
            using var doc = JsonDocument.Parse(bytes.AsMemory(0, n));
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0 && errors[0].ValueKind == JsonValueKind.Object)
            {
                var e = errors[0];
                var code = e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                var message = e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                return (code, message);
            }
        }
        catch (Exception) { /* an error body is a courtesy; its absence is not an error of ours */ }
        return (null, null);
    }

    /// <summary>The scope a Bearer challenge says was missing (RFC 6750 <c>error="insufficient_scope"</c>), or null.</summary>
    private static string? InsufficientScope(HttpResponseMessage response)
    {
        foreach (var header in response.Headers.WwwAuthenticate)
            foreach (var challenge in AuthChallenge.ParseAll(header.Scheme + (header.Parameter is null ? "" : " " + header.Parameter)))
                if (challenge.Parameters.TryGetValue("error", out var error) && error == "insufficient_scope")
                    return challenge.Scope ?? "";
        return null;
    }

    /// <summary><c>repository:prod/app:pull,push</c> → <c>push to prod/app</c>.</summary>
    private static string ScopeAction(string scope, string repository)
    {
        var scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var chosen = scopes.FirstOrDefault(x => x.EndsWith("push", StringComparison.Ordinal)) ?? scopes.FirstOrDefault();
        var parts = chosen?.Split(':');
        if (parts is { Length: 3 } && parts[0] == "repository")
            return (parts[2].Contains("push", StringComparison.Ordinal) ? "push to " : "pull from ") + parts[1];
        return "do this in " + repository;
    }
}
