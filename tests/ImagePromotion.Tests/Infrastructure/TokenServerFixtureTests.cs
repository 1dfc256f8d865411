using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using NUnit.Framework;

namespace ImagePromotion.Tests.Infrastructure;

[TestFixture]
public sealed class TokenServerFixtureTests
{
    [Test]
    public async Task Challenge_then_token_then_the_registry_answers_200()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.TokenAuth());
        var image = await TestImages.PushRandomImageAsync(registry, "team/app", "v1", layerCount: 1);
        using var http = registry.CreateHttpClient();

        using var challenged = await http.GetAsync("v2/team/app/manifests/v1");
        Assert.That(challenged.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var challenge = challenged.Headers.WwwAuthenticate.Single();
        Assert.That(challenge.Scheme, Is.EqualTo("Bearer"));
        Assert.That(challenge.Parameter, Does.Contain($"realm=\"{registry.TokenServer!.Realm}\""));
        Assert.That(challenge.Parameter, Does.Contain("service=\"test-registry\""));
        Assert.That(challenge.Parameter, Does.Contain("scope=\"repository:team/app:pull\""));

        var token = await GetTokenAsync(registry, "repository:team/app:pull", "tester", "s3cret-pass");
        var claims = TokenSigner.ReadClaims(token);
        Assert.That(claims.GetProperty("aud").GetString(), Is.EqualTo("test-registry"));
        Assert.That(claims.GetProperty("sub").GetString(), Is.EqualTo("tester"));
        Assert.That(claims.GetProperty("access")[0].GetProperty("actions")[0].GetString(), Is.EqualTo("pull"));

        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/team/app/manifests/v1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd(TestImages.OciManifest);
        using var ok = await http.SendAsync(request);
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ok.Headers.GetValues("Docker-Content-Digest").Single(), Is.EqualTo(image.Digest.ToString()));
        Assert.That(registry.TokenServer.RequestCountFor("repository:team/app:pull"), Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task Wrong_password_is_refused_by_the_token_server()
    {
        await using var tokens = await TokenServer.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(tokens.Realm + "?service=test-registry&scope=repository:a:pull"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("tester:nope")));
        using var response = await http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(tokens.Requests.Single().Status, Is.EqualTo(401));
    }

    [Test]
    public async Task A_user_without_push_grant_gets_a_pull_only_token_and_the_registry_denies_the_push()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions
        {
            Users = new Dictionary<string, string> { ["writer"] = "w-pass", ["reader"] = "r-pass" },
            Grants = [TokenGrant.PullPush("writer"), TokenGrant.PullOnly("reader")],
        });
        await using var registry = await RegistryServer.StartAsync(options);
        await TestImages.PushRandomImageAsync(registry, "app", "v1", layerCount: 1);

        var token = await GetTokenAsync(registry, "repository:app:pull,push", "reader", "r-pass");
        var actions = TokenSigner.ReadClaims(token).GetProperty("access")[0].GetProperty("actions");
        Assert.That(actions.EnumerateArray().Select(a => a.GetString()), Is.EqualTo(new[] { "pull" }));

        using var http = registry.CreateHttpClient();
        using var push = new HttpRequestMessage(HttpMethod.Post, "v2/app/blobs/uploads/");
        push.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var denied = await http.SendAsync(push);
        Assert.That((int)denied.StatusCode, Is.AnyOf(401, 403));

        using var readerClient = registry.CreateClient(new NetworkCredential("reader", "r-pass"));
        Assert.That(await readerClient.GetManifestDigestAsync("app", "v1"), Is.Not.Null, "pull stays allowed");
    }

    [Test]
    public async Task A_short_lived_token_is_rejected_by_the_registry_once_its_lifetime_is_over()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions { TokenLifetime = TimeSpan.FromSeconds(2) });
        await using var registry = await RegistryServer.StartAsync(options);
        var token = await GetTokenAsync(registry, "repository:app:pull", "tester", "s3cret-pass");
        using var http = registry.CreateHttpClient();

        Assert.That(await ListTagsStatus(http, token), Is.EqualTo(HttpStatusCode.NotFound), "valid token: repo simply unknown");
        // exp is rounded up to a whole second: the token lives at least 2 s and less than 3 s.
        await Task.Delay(TimeSpan.FromSeconds(3.2));
        Assert.That(await ListTagsStatus(http, token), Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task Oauth2_password_and_refresh_token_grants_issue_tokens()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.TokenAuth());
        using var http = new HttpClient();
        var tokens = registry.TokenServer!;

        using var password = await http.PostAsync(tokens.Realm, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = "tester", ["password"] = "s3cret-pass",
            ["service"] = "test-registry", ["client_id"] = "tests", ["access_type"] = "offline",
            ["scope"] = "repository:app:pull",
        }));
        Assert.That(password.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var passwordJson = JsonDocument.Parse(await password.Content.ReadAsStringAsync());
        var refresh = passwordJson.RootElement.GetProperty("refresh_token").GetString()!;
        Assert.That(passwordJson.RootElement.GetProperty("expires_in").GetInt32(), Is.EqualTo(300));

        var identity = tokens.IssueRefreshToken("tester");
        foreach (var refreshToken in new[] { refresh, identity })
        {
            using var refreshed = await http.PostAsync(tokens.Realm, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken,
                ["service"] = "test-registry", ["client_id"] = "tests", ["scope"] = "repository:app:pull",
            }));
            Assert.That(refreshed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            using var json = JsonDocument.Parse(await refreshed.Content.ReadAsStringAsync());
            var access = json.RootElement.GetProperty("access_token").GetString()!;
            Assert.That(TokenSigner.ReadClaims(access).GetProperty("sub").GetString(), Is.EqualTo("tester"));
            using var registryHttp = registry.CreateHttpClient();
            Assert.That(await ListTagsStatus(registryHttp, access), Is.EqualTo(HttpStatusCode.NotFound));
        }

        using var bad = await http.PostAsync(tokens.Realm, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = "forged", ["service"] = "test-registry", ["client_id"] = "tests",
        }));
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(tokens.Requests.Count(r => r.GrantType == "refresh_token" && r.Status == 200), Is.EqualTo(2));
    }

    [Test]
    public async Task Anonymous_pull_works_only_where_granted()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions
        {
            Grants = [TokenGrant.PullPush(TokenGrant.AnyUser), TokenGrant.PullOnly(null, "public/*")],
        });
        await using var registry = await RegistryServer.StartAsync(options);
        await TestImages.PushRandomImageAsync(registry, "public/app", "v1", layerCount: 1);
        await TestImages.PushRandomImageAsync(registry, "private/app", "v1", layerCount: 1);

        using var anonymous = new RegistryTestClient(registry.BaseUri, registry.CreateHttpHandler());
        Assert.That(await anonymous.GetManifestDigestAsync("public/app", "v1"), Is.Not.Null);
        var denied = Assert.ThrowsAsync<HttpRequestException>(() => anonymous.GetManifestDigestAsync("private/app", "v1"));
        Assert.That(denied!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(registry.TokenServer!.Requests.Where(r => r.Account is null).Select(r => r.Scopes.Single()),
            Is.EquivalentTo(new[] { "repository:public/app:pull", "repository:private/app:pull" }));
    }

    [Test]
    public async Task Rs256_tokens_are_accepted_too()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions { Algorithm = TokenSigningAlgorithm.RS256 });
        await using var registry = await RegistryServer.StartAsync(options);
        var pushed = await TestImages.PushRandomImageAsync(registry, "app", "v1", layerCount: 1);
        using var client = registry.CreateClient();
        Assert.That(await client.GetManifestDigestAsync("app", "v1"), Is.EqualTo(pushed.Digest));
    }

    private static async Task<string> GetTokenAsync(RegistryServer registry, string scope, string user, string password)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"{registry.TokenServer!.Realm}?service=test-registry&scope={Uri.EscapeDataString(scope)}&account={user}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(json.RootElement.GetProperty("access_token").GetString(), Is.EqualTo(json.RootElement.GetProperty("token").GetString()));
        return json.RootElement.GetProperty("token").GetString()!;
    }

    private static async Task<HttpStatusCode> ListTagsStatus(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/app/tags/list");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
