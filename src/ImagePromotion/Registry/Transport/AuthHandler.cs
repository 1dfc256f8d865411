using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using ImagePromotion.Registry.Auth;

namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Answers registry auth challenges. It learns each host's challenge from its first 401 (no separate
/// <c>/v2/</c> ping: one round trip saved per run), then authenticates every later request up front:
/// Basic as is, Bearer with a token cached per host and scope set until shortly before it expires.
/// A 401 on a cached token (expired early, revoked) refreshes it once; a second 401 goes back to the caller.
/// </summary>
internal sealed class AuthHandler(CredentialStore credentials, TokenClient tokens) : DelegatingHandler
{
    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<BearerToken>>> _tokens = new(StringComparer.Ordinal);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var host = request.RequestUri!.Authority;
        var registry = RegistryName(host);
        var scopes = RequestScopes.Of(request);
        var credential = credentials.Get(registry);

        string? tokenKey = null;
        if (_challenges.TryGetValue(host, out var known))
            tokenKey = await AuthorizeAsync(request, host, registry, known, scopes, credential, refresh: false, cancellationToken).ConfigureAwait(false);
        else if (credential.RegistryToken is { } fixedToken)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixedToken);

        var sentWithoutCredentials = request.Headers.Authorization is null;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
        // A 401 from somewhere a redirect led (blob storage, a CDN) names a realm of its own: credentials go
        // only to the configured host and the token realm that host names, never to a redirect target's.
        if (response.RequestMessage?.RequestUri is { } answered && !RedirectHandler.SameOrigin(answered, request.RequestUri!))
            return response;

        var challenge = response.Headers.WwwAuthenticate
            .SelectMany(h => AuthChallenge.ParseAll(h.Scheme + (h.Parameter is null ? "" : " " + h.Parameter)))
            .OrderByDescending(c => c.IsBearer) // prefer Bearer when a registry offers both
            .FirstOrDefault(c => c.IsBearer || c.IsBasic);
        if (challenge is null) return response;
        var learnedNow = !_challenges.TryGetValue(host, out var previous) || previous.Scheme != challenge.Scheme || previous.Realm != challenge.Realm;
        _challenges[host] = challenge;
        if (tokenKey is not null) _tokens.TryRemove(tokenKey, out _);

        // Retry once: when the request went out bare (the first of a host, or several at once before any
        // challenge was known: each must be retried, not only the one that learned it), when the challenge
        // changed, or when a cached token went stale.
        // A token refused for insufficient scope was granted all the service would grant: a new one is no better.
        var insufficientScope = challenge.Parameters.TryGetValue("error", out var error) && error == "insufficient_scope";
        var stale = tokenKey is not null && !insufficientScope;
        var worthRetry = sentWithoutCredentials || learnedNow || stale;
        if (!worthRetry || !RetryHandler.IsReplayable(request.Content)) return response;
        if (challenge.IsBasic && (credential.Username is null || credential.Password is null)) return response;

        response.Dispose();
        await AuthorizeAsync(request, host, registry, challenge, scopes, credential, refresh: true, cancellationToken).ConfigureAwait(false);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string?> AuthorizeAsync(HttpRequestMessage request, string host, string registry, AuthChallenge challenge,
        string[] scopes, RegistryCredential credential, bool refresh, CancellationToken cancellationToken)
    {
        if (challenge.IsBasic)
        {
            if (credential.Username is not null && credential.Password is not null)
                request.Headers.Authorization = TokenClient.BasicHeader(credential.Username, credential.Password);
            return null;
        }
        var effectiveScopes = scopes.Length > 0 ? scopes
            : challenge.Scope is { Length: > 0 } s ? s.Split(' ', StringSplitOptions.RemoveEmptyEntries) : Array.Empty<string>();
        var key = host + "|" + string.Join(' ', effectiveScopes.Order(StringComparer.Ordinal));
        if (refresh) _tokens.TryRemove(key, out _);
        for (var attempt = 0; ; attempt++)
        {
            var lazy = _tokens.GetOrAdd(key, _ => new Lazy<Task<BearerToken>>(
                () => tokens.FetchAsync(registry, challenge, effectiveScopes, credential, cancellationToken)));
            BearerToken token;
            try { token = await lazy.Value.ConfigureAwait(false); }
            catch { _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<BearerToken>>>(key, lazy)); throw; }
            if (!token.IsFresh(DateTimeOffset.UtcNow) && attempt == 0)
            {
                _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<BearerToken>>>(key, lazy));
                continue;
            }
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
            return key;
        }
    }

    /// <summary>An API host holds the credentials filed under its registry's name (Docker Hub's under docker.io).</summary>
    private static string RegistryName(string host) => Profiles.RegistryProfiles.RegistryOfApiHost(host);
}
