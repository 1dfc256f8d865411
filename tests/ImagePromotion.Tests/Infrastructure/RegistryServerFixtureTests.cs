using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;

namespace ImagePromotion.Tests.Infrastructure;

[TestFixture]
public sealed class RegistryServerFixtureTests
{
    [Test]
    public async Task Anonymous_registry_answers_v2_on_loopback()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var http = registry.CreateHttpClient();

        using var response = await http.GetAsync("v2/");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.GetValues("Docker-Distribution-Api-Version").Single(), Is.EqualTo("registry/2.0"));
        Assert.That(registry.Host, Does.StartWith("127.0.0.1:"));
        Assert.That(registry.BaseUri.ToString(), Is.EqualTo($"http://{registry.Host}/"));
    }

    [Test]
    public async Task Access_log_counts_a_known_sequence_of_requests()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var http = registry.CreateHttpClient();
        await registry.ResetRequestLogAsync();

        (await http.GetAsync("v2/")).Dispose();
        (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "v2/app/manifests/missing"))).Dispose();
        (await http.GetAsync("v2/app/blobs/sha256:" + new string('a', 64))).Dispose();

        var requests = await registry.GetRequestsAsync();
        Assert.That(requests.Select(r => (r.Method, r.Path, r.Status)), Is.EqualTo(new[]
        {
            ("GET", "/v2/", 200),
            ("HEAD", "/v2/app/manifests/missing", 404),
            ("GET", "/v2/app/blobs/sha256:" + new string('a', 64), 404),
        }));
        Assert.That(registry.RequestCount, Is.EqualTo(3));

        registry.ResetRequestLog();
        Assert.That(registry.RequestCount, Is.Zero);
    }

    [Test]
    public async Task Basic_auth_rejects_a_wrong_password_and_accepts_the_right_one()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.BasicAuth("alice", "right-pass"));
        using var http = registry.CreateHttpClient();

        using var anonymous = await http.GetAsync("v2/");
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(anonymous.Headers.WwwAuthenticate.Single().Scheme, Is.EqualTo("Basic"));

        Assert.That(await GetV2With(http, "alice", "wrong-pass"), Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await GetV2With(http, "alice", "right-pass"), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(registry.Credentials!.UserName, Is.EqualTo("alice"));
    }

    [Test]
    public async Task Tls_registry_is_trusted_with_its_ca_bundle_and_refused_without()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryServerOptions.Anonymous().WithTls());
        Assert.That(registry.BaseUri.Scheme, Is.EqualTo("https"));
        Assert.That(File.ReadAllText(registry.CaCertificatePath!), Does.Contain("BEGIN CERTIFICATE"));

        using var trusting = registry.CreateHttpClient();
        using var ok = await trusting.GetAsync("v2/");
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        using var systemTrust = new HttpClient();
        Assert.ThrowsAsync<HttpRequestException>(() => systemTrust.GetAsync(new Uri(registry.BaseUri, "v2/")));
    }

    [Test]
    public async Task Restart_keeps_port_and_storage_and_stop_refuses_connections()
    {
        await using var registry = await RegistryServer.StartAsync();
        var image = await TestImages.PushRandomImageAsync(registry, "app", "v1", layerCount: 1);
        var port = registry.Port;

        await registry.StopAsync();
        Assert.That(registry.IsRunning, Is.False);
        using var http = registry.CreateHttpClient();
        var refused = Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("v2/"));
        Assert.That(refused!.InnerException, Is.InstanceOf<SocketException>());

        await registry.RestartAsync();
        Assert.That(registry.Port, Is.EqualTo(port));
        using var client = registry.CreateClient();
        Assert.That(await client.GetManifestDigestAsync("app", "v1"), Is.EqualTo(image.Digest));
    }

    private static async Task<HttpStatusCode> GetV2With(HttpClient http, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
