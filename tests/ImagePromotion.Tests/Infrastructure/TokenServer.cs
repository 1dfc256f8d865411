using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>One request to the token endpoint as the server understood it.</summary>
public sealed record TokenRequest(string Method, string? GrantType, string? Account, IReadOnlyList<string> Scopes, int Status);

/// <summary>
/// A Docker registry token server (the protocol of auth.docker.io): <c>GET /token</c> with optional
/// Basic credentials, and <c>POST /token</c> with an OAuth2 password or refresh_token grant. Tokens
/// grant the intersection of the requested scope and <see cref="TokenServerOptions.Grants"/>, as real
/// token servers do, so a denied push shows up as a 401/403 from the registry, not from here.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    private readonly LoopbackWebHost _host;
    private readonly TokenSigner _signer;
    private readonly ConcurrentQueue<TokenRequest> _requests = new();
    private readonly ConcurrentDictionary<string, string> _refreshTokens = new();
    private volatile IReadOnlyList<TokenGrant> _grants;

    private TokenServer(TokenServerOptions options, TokenSigner signer, LoopbackWebHost host)
    {
        Options = options;
        _signer = signer;
        _host = host;
        _grants = options.Grants;
    }

    public TokenServerOptions Options { get; }
    /// <summary>The realm a registry advertises: <c>http://127.0.0.1:PORT/token</c>.</summary>
    public Uri Realm => new(_host.BaseUri, "token");
    public Uri BaseUri => _host.BaseUri;
    /// <summary>PEM certificate the registry must trust (<c>auth.token.rootcertbundle</c>).</summary>
    public string SigningCertificatePem => _signer.CertificatePem;

    public IReadOnlyList<TokenRequest> Requests => _requests.ToArray();
    public int RequestCount => _requests.Count;

    /// <summary>Token requests that asked for exactly this scope, e.g. <c>repository:app:pull,push</c>.</summary>
    public int RequestCountFor(string scope) => _requests.Count(r => r.Scopes.Contains(scope));

    public void ResetRequests() => _requests.Clear();

    /// <summary>Changes permissions while running (e.g. revoke push in the middle of a test).</summary>
    public void SetGrants(IReadOnlyList<TokenGrant> grants) => _grants = grants;

    /// <summary>An OAuth2 refresh token for a user, as <c>docker login</c> stores in <c>identitytoken</c>.</summary>
    public string IssueRefreshToken(string account)
    {
        var token = "refresh-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        _refreshTokens[token] = account;
        return token;
    }

    public static async Task<TokenServer> StartAsync(TokenServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TokenServerOptions();
        var signer = new TokenSigner(options.Algorithm);
        TokenServer? server = null;
        var host = await LoopbackWebHost.StartAsync(ctx => server!.HandleAsync(ctx), cancellationToken);
        server = new TokenServer(options, signer, host);
        return server;
    }

    /// <summary>Mints a token directly (no HTTP), e.g. to hand a pre-made token to a client under test.</summary>
    public string MintToken(string? account, IEnumerable<string> scopes) =>
        Mint(account, scopes.ToList(), DateTimeOffset.UtcNow).Token;

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path != "/token")
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (HttpMethods.IsGet(context.Request.Method)) await HandleGetAsync(context);
        else if (HttpMethods.IsPost(context.Request.Method)) await HandlePostAsync(context);
        else context.Response.StatusCode = 405;
    }

    private async Task HandleGetAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var scopes = query["scope"].Where(s => !string.IsNullOrEmpty(s)).SelectMany(s => s!.Split(' ')).ToList();
        string? account = null;
        if (AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization, out var auth) &&
            auth.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            var (user, password) = DecodeBasic(auth.Parameter);
            if (!CheckPassword(user, password))
            {
                await ErrorAsync(context, "GET", null, user, scopes, 401, new { details = "incorrect username or password" });
                return;
            }
            account = user;
        }
        if (query["service"] != Options.Service)
        {
            await ErrorAsync(context, "GET", null, account, scopes, 400, new { details = $"unknown service '{query["service"]}'" });
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var minted = Mint(account, scopes, now);
        string? refresh = query["offline_token"] == "true" && account is not null ? IssueRefreshToken(account) : null;
        _requests.Enqueue(new TokenRequest("GET", null, account, scopes, 200));
        await WriteTokenAsync(context, minted, now, refresh);
    }

    private async Task HandlePostAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await ErrorAsync(context, "POST", null, null, [], 400, new { error = "invalid_request", error_description = "expected a form body" });
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var grantType = (string?)form["grant_type"];
        var scopes = form["scope"].Where(s => !string.IsNullOrEmpty(s)).SelectMany(s => s!.Split(' ')).ToList();
        if (form["service"] != Options.Service || string.IsNullOrEmpty(form["client_id"]))
        {
            await ErrorAsync(context, "POST", grantType, null, scopes, 400,
                new { error = "invalid_request", error_description = "service and client_id are required" });
            return;
        }
        string? account;
        string? refresh = null;
        switch (grantType)
        {
            case "password":
                account = form["username"];
                if (!CheckPassword(account, form["password"]))
                {
                    await ErrorAsync(context, "POST", grantType, account, scopes, 401, new { error = "invalid_grant" });
                    return;
                }
                if (form["access_type"] == "offline") refresh = IssueRefreshToken(account!);
                break;
            case "refresh_token":
                if (!_refreshTokens.TryGetValue(form["refresh_token"].ToString(), out account))
                {
                    await ErrorAsync(context, "POST", grantType, null, scopes, 401, new { error = "invalid_grant" });
                    return;
                }
                refresh = form["refresh_token"];
                break;
            default:
                await ErrorAsync(context, "POST", grantType, null, scopes, 400, new { error = "unsupported_grant_type" });
                return;
        }
        var now = DateTimeOffset.UtcNow;
        var minted = Mint(account, scopes, now);
        _requests.Enqueue(new TokenRequest("POST", grantType, account, scopes, 200));
        await WriteTokenAsync(context, minted, now, refresh);
    }

    private sealed record Minted(string Token, IReadOnlyList<TokenAccess> Access);

    private Minted Mint(string? account, IReadOnlyList<string> scopes, DateTimeOffset now)
    {
        var access = new List<TokenAccess>();
        foreach (var scope in scopes)
        {
            // scope = type:name:actions; the name may itself hold a registry port (host:5000/repo).
            var first = scope.IndexOf(':');
            var last = scope.LastIndexOf(':');
            if (first < 0 || last == first) continue;
            var type = scope[..first];
            var name = scope[(first + 1)..last];
            var requested = scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (type != "repository") continue;
            var allowed = _grants.Where(g => g.Applies(account, name)).SelectMany(g => g.Actions).ToHashSet();
            var granted = requested.Where(a => allowed.Contains(a) || allowed.Contains("*")).ToArray();
            access.Add(new TokenAccess(type, name, granted));
        }
        var leeway = Options.CompensateRegistryLeeway ? TimeSpan.FromSeconds(60) : TimeSpan.Zero;
        // exp has whole-second precision: round up so a token never lives shorter than TokenLifetime.
        var expiresMs = (now + Options.TokenLifetime - leeway).ToUnixTimeMilliseconds();
        var expires = DateTimeOffset.FromUnixTimeMilliseconds((expiresMs + 999) / 1000 * 1000);
        var token = _signer.Sign(Options.Issuer, account ?? "", Options.Service, now, expires, access);
        return new Minted(token, access);
    }

    private Task WriteTokenAsync(HttpContext context, Minted minted, DateTimeOffset now, string? refreshToken)
    {
        var body = new Dictionary<string, object>
        {
            ["token"] = minted.Token,
            ["access_token"] = minted.Token,
            ["expires_in"] = (int)Math.Ceiling(Options.TokenLifetime.TotalSeconds),
            ["issued_at"] = now.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"),
        };
        if (refreshToken is not null) body["refresh_token"] = refreshToken;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    private Task ErrorAsync(HttpContext context, string method, string? grantType, string? account,
        IReadOnlyList<string> scopes, int status, object body)
    {
        _requests.Enqueue(new TokenRequest(method, grantType, account, scopes, status));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    private bool CheckPassword(string? user, string? password) =>
        user is not null && Options.Users.TryGetValue(user, out var expected) && expected == password;

    private static (string? User, string? Password) DecodeBasic(string? parameter)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(parameter ?? ""));
            var colon = text.IndexOf(':');
            return colon < 0 ? (text, null) : (text[..colon], text[(colon + 1)..]);
        }
        catch (FormatException) { return (null, null); }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _signer.Dispose();
    }
}
