using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ImagePromotion.Logging;

namespace ImagePromotion.Registry.Auth;

/// <summary>A bearer token with the moment we stop trusting it.</summary>
public sealed record BearerToken(string Value, DateTimeOffset ExpiresAt)
{
    /// <summary>True while <paramref name="now"/> is before <see cref="ExpiresAt"/>.</summary>
    public bool IsFresh(DateTimeOffset now) => now < ExpiresAt;
    /// <summary><c>bearer token valid until TIME</c>: never the token.</summary>
    public override string ToString() => $"bearer token valid until {ExpiresAt:O}";
}

/// <summary>
/// Speaks the registry token protocol: <c>GET realm?service=…&amp;scope=…</c> with Basic credentials (or none),
/// or, holding an identity token, the OAuth2 form <c>POST realm</c> with <c>grant_type=refresh_token</c>.
/// </summary>
internal sealed class TokenClient(HttpMessageInvoker http)
{
    public async Task<BearerToken> FetchAsync(string registry, AuthChallenge challenge, IReadOnlyList<string> scopes,
        RegistryCredential credential, CancellationToken cancellationToken)
    {
        if (credential.RegistryToken is { } fixedToken)
            return new BearerToken(fixedToken, DateTimeOffset.MaxValue);
        if (string.IsNullOrEmpty(challenge.Realm) || !Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm))
            throw new PromotionException($"registry {registry} asked for a bearer token without a usable realm ('{challenge.Realm}'): the registry is misconfigured");

        HttpRequestMessage request;
        if (credential.IdentityToken is { } refresh)
        {
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"), new("refresh_token", refresh), new("client_id", "image-promotion"),
            };
            if (challenge.Service is { } s) form.Add(new("service", s));
            if (scopes.Count > 0) form.Add(new("scope", string.Join(' ', scopes)));
            request = new HttpRequestMessage(HttpMethod.Post, realm) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(EncodeForm(form))) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        }
        else
        {
            var query = new StringBuilder();
            if (challenge.Service is { } s) Append(query, "service", s);
            foreach (var scope in scopes) Append(query, "scope", scope);
            if (credential.Username is { } user) Append(query, "account", user);
            var ub = new UriBuilder(realm);
            ub.Query = string.IsNullOrEmpty(ub.Query) || ub.Query == "?" ? query.ToString() : ub.Query.TrimStart('?') + "&" + query;
            request = new HttpRequestMessage(HttpMethod.Get, ub.Uri);
            if (credential.Username is not null && credential.Password is not null)
                request.Headers.Authorization = BasicHeader(credential.Username, credential.Password);
        }

        using (request)
        using (var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false))
        {
            var service = realm.GetLeftPart(UriPartial.Path);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw new RegistryException($"registry {registry}: the token service {service} refused the {Describe(credential)} ({(int)response.StatusCode}): check the user name and password",
                    registry, null, RegistryOperation.FetchToken, response.StatusCode, null);
            if (!response.IsSuccessStatusCode)
                throw new RegistryException($"registry {registry}: the token service {service} answered {(int)response.StatusCode} {response.ReasonPhrase}: try again later or check the registry",
                    registry, null, RegistryOperation.FetchToken, response.StatusCode, null)
                { Transient = Transport.RegistryRetry.IsRetryableStatus(response.StatusCode) };
            var body = await Transport.BodyLimits.ReadAsync(response.Content, Transport.BodyLimits.Token,
                $"registry {registry}: the token service {service}", cancellationToken).ConfigureAwait(false);
            return Parse(body, registry);
        }
    }

    internal static BearerToken Parse(byte[] body, string registry)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : root.TryGetProperty("access_token", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null;
            if (string.IsNullOrEmpty(token))
                throw new PromotionException($"registry {registry}: the token service answered without a token");
            SecretRedactor.Shared.Add(token);
            // The spec's default lifetime is 60 s; a minimum of 60 s is assumed when a server says less.
            var lifetime = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt32() : 60;
            if (lifetime <= 0) lifetime = 60;
            var issued = root.TryGetProperty("issued_at", out var i) && i.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(i.GetString(), out var iss) ? iss : DateTimeOffset.UtcNow;
            if (issued > DateTimeOffset.UtcNow) issued = DateTimeOffset.UtcNow; // skewed clocks
            // Renew early so a token never expires between our check and the registry's.
            var margin = TimeSpan.FromSeconds(Math.Min(10, lifetime / 4.0));
            return new BearerToken(token, issued + TimeSpan.FromSeconds(lifetime) - margin);
        }
        catch (JsonException)
        {
            throw new PromotionException($"registry {registry}: the token service answered with something that is not JSON");
        }
    }

    internal static AuthenticationHeaderValue BasicHeader(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    private static string Describe(RegistryCredential c) =>
        c.IsAnonymous ? "anonymous request" : $"credentials from {c.Source}";

    private static void Append(StringBuilder sb, string key, string value)
    {
        if (sb.Length > 0) sb.Append('&');
        sb.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static string EncodeForm(IEnumerable<KeyValuePair<string, string>> pairs) =>
        string.Join('&', pairs.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
}
