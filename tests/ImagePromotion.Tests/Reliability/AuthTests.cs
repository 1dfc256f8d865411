using ImagePromotion.Copy;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// Real registry auth: a token server the registry trusts (JWTs with an x5c chain), htpasswd Basic.
/// Least-privilege mounts, tokens that expire in the middle of a copy (also while a request is on the
/// wire), refused passwords without a retry storm or a leaked secret, and redirects that keep the token home.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class AuthTests
{
    private CancellationTokenSource _timeout = null!;
    private CancellationToken Ct => _timeout.Token;

    [SetUp]
    public void SetUp() => _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));

    [TearDown]
    public void TearDown() => _timeout.Dispose();

    [Test]
    public async Task Mount_with_pull_only_on_the_source_and_push_on_the_target_asks_for_exactly_those_scopes()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions
        {
            Grants = [TokenGrant.PullOnly(TokenGrant.AnyUser, "dev/*"), TokenGrant.PullPush(TokenGrant.AnyUser, "prod/*")],
        });
        await using var registry = await RegistryServer.StartAsync(options, Ct);
        var user = registry.Credentials!;
        var image = await PushAsAdminAsync(registry, "dev/app", "v1");
        using var engine = ReliabilityEngine.Create(ReliabilityEngine.Credentials(registry.Host, user.UserName, user.Password));
        registry.TokenServer!.ResetRequests();

        var result = await engine.CopyAsync(registry.Reference("dev/app", "v1"), registry.Reference("prod/app", "v1"), ct: Ct);

        Assert.That(result.BlobsMounted, Is.EqualTo(image.Blobs.Count), "mounted, not streamed");
        Assert.That(result.BytesUploaded, Is.Zero);
        var asked = registry.TokenServer.Requests;
        Assert.That(asked.Select(r => r.Status), Is.All.EqualTo(200));
        Assert.That(asked.Any(r => r.Scopes.Contains("repository:prod/app:pull,push") && r.Scopes.Contains("repository:dev/app:pull")), Is.True,
            "the mount's token carries push on the target and pull on the source: " + Show(asked));
        Assert.That(asked.SelectMany(r => r.Scopes).Where(s => s.StartsWith("repository:dev/app:") && s.Contains("push")), Is.Empty,
            "push is never asked for on the source");
        using var raw = registry.CreateClient();
        Assert.That(await DestinationState.AssertWholeOrAbsentAsync(raw, "prod/app", "v1", image.Digest, Ct), Is.True);
    }

    [Test]
    public async Task Source_token_expiring_during_a_slow_copy_and_while_a_read_is_in_flight_is_renewed()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions { TokenLifetime = TimeSpan.FromSeconds(2) });
        await using var source = await RegistryServer.StartAsync(options, Ct);
        await using var destination = await RegistryServer.StartAsync(cancellationToken: Ct);
        var image = await TestImages.PushRandomImageAsync(source, "dev/app", "v1", layerCount: 3, layerSize: 128 * 1024, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(source, Ct);
        proxy.Latency = TimeSpan.FromMilliseconds(250);
        // One layer read waits 3.5 s in the proxy (exp is rounded up to a whole second), then reaches the registry with a token that has expired.
        var stall = proxy.Inject("GET", $"/blobs/{image.Layers[1].Digest}", FaultAction.Stall(TimeSpan.FromSeconds(3.5)));
        var user = source.Credentials!;
        using var engine = ReliabilityEngine.Create(ReliabilityEngine.Credentials(proxy.Host, user.UserName, user.Password));
        source.TokenServer!.ResetRequests();
        await source.ResetRequestLogAsync(Ct);

        var result = await engine.Copier.CopyAsync(Reference(proxy.Host, "dev/app:v1"), Reference(destination.Host, "dev/app:v1"),
            new CopyOptions { MaxParallelism = 1 }, Ct);

        Assert.That(stall.Hits, Is.EqualTo(1));
        Assert.That(result.Seconds, Is.GreaterThan(3), "the copy outlived the 2 s token");
        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(source.TokenServer.Requests.Count(r => r.Status == 200), Is.GreaterThanOrEqualTo(2), "a new token was fetched: " + Show(source.TokenServer.Requests));
        var seen = await source.GetRequestsAsync(Ct);
        Assert.That(seen.Count(r => r.Status == 401), Is.LessThanOrEqualTo(2), "one challenge, at most one expired-in-flight refusal");
        using var raw = destination.CreateClient();
        Assert.That(await DestinationState.AssertWholeOrAbsentAsync(raw, "dev/app", "v1", image.Digest, Ct), Is.True);
        FaultMatrix.Record("2 s token expires during the copy and while a blob GET is in flight (3.5 s stall)", "source (token auth)",
            "completes whole: token renewed before use, the in-flight GET refused once and replayed with a new token");
    }

    [Test]
    public async Task Destination_token_expiring_while_a_streamed_blob_upload_waits_is_renewed_and_the_upload_restarted()
    {
        var options = RegistryServerOptions.TokenAuth(new TokenServerOptions { TokenLifetime = TimeSpan.FromSeconds(2) });
        await using var source = await RegistryServer.StartAsync(cancellationToken: Ct);
        await using var destination = await RegistryServer.StartAsync(options, Ct);
        var image = await TestImages.PushRandomImageAsync(source, "dev/app", "v1", layerCount: 2, layerSize: 128 * 1024, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(destination, Ct);
        // The streamed PUT (not replayable) reaches the registry after its token expired.
        var stall = proxy.Inject("PUT", "/blobs/uploads/", FaultAction.Stall(TimeSpan.FromSeconds(3.5)));
        var user = destination.Credentials!;
        using var engine = ReliabilityEngine.Create(ReliabilityEngine.Credentials(proxy.Host, user.UserName, user.Password));

        var result = await engine.Copier.CopyAsync(Reference(source.Host, "dev/app:v1"), Reference(proxy.Host, "prod/app:v1"),
            new CopyOptions { MaxParallelism = 1 }, Ct);

        Assert.That(stall.Hits, Is.EqualTo(1));
        Assert.That(proxy.Requests.Count(r => r.Method == "PUT" && r.Status == 401), Is.EqualTo(1),
            "the stale token was refused once: " + string.Join("; ", proxy.Requests.Select(r => $"{r.Method} {r.PathAndQuery} {r.Status}")));
        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        using var raw = destination.CreateClient();
        Assert.That(await DestinationState.AssertWholeOrAbsentAsync(raw, "prod/app", "v1", image.Digest, Ct), Is.True);
        FaultMatrix.Record("2 s token expires while a streamed blob PUT waits (3.5 s stall)", "destination (token auth)",
            "completes whole: the refused upload restarts from a fresh read with a new token");
    }

    [TestCase(RegistryAuthMode.Basic)]
    [TestCase(RegistryAuthMode.Token)]
    public async Task Wrong_password_is_one_line_with_bounded_requests_and_never_printed(RegistryAuthMode mode)
    {
        var options = mode == RegistryAuthMode.Basic ? RegistryServerOptions.BasicAuth() : RegistryServerOptions.TokenAuth();
        await using var source = await RegistryServer.StartAsync(options, Ct);
        await using var destination = await RegistryServer.StartAsync(cancellationToken: Ct);
        await TestImages.PushRandomImageAsync(source, "dev/app", "v1", layerCount: 3, cancellationToken: Ct);
        var wrong = "Wr0ng-" + Guid.NewGuid().ToString("N");
        using var engine = ReliabilityEngine.Create(ReliabilityEngine.Credentials(source.Host, source.Credentials!.UserName, wrong));
        await source.ResetRequestLogAsync(Ct);
        source.TokenServer?.ResetRequests();

        var ex = Assert.CatchAsync<PromotionException>(() =>
            engine.CopyAsync(source.Reference("dev/app", "v1"), destination.Reference("dev/app", "v1"), ct: Ct))!;

        OneLine.AssertClear(ex, $"registry {source.Host}", "check the user name and password");
        Assert.That(ex.Transient, Is.False, "a refused password is not retried");
        var seen = await source.GetRequestsAsync(Ct);
        Assert.That(seen, Has.Count.LessThanOrEqualTo(2), "no retry storm: " + string.Join("; ", seen.Select(r => $"{r.Method} {r.Path} {r.Status}")));
        Assert.That(source.TokenServer?.RequestCount ?? 0, Is.LessThanOrEqualTo(1));
        Assert.That((await destination.GetRequestsAsync(Ct)).Where(r => r.Method is "PUT" or "POST"), Is.Empty, "nothing written");
        var everything = ex.ToString() + string.Join('\n', engine.Log.Lines);
        Assert.That(everything, Does.Not.Contain(wrong), "the password is in no message, inner exception or log line");
        Assert.That(everything, Does.Not.Contain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{source.Credentials.UserName}:{wrong}"))));
    }

    [Test]
    public async Task Blob_reads_redirected_to_another_host_never_carry_the_registry_token()
    {
        await using var source = await RegistryServer.StartAsync(RegistryServerOptions.TokenAuth(), Ct);
        await using var destination = await RegistryServer.StartAsync(cancellationToken: Ct);
        var image = await TestImages.PushRandomImageAsync(source, "dev/app", "v1", layerCount: 2, cancellationToken: Ct);
        await using var proxy = await FaultProxy.StartAsync(source, Ct);
        proxy.Inject("GET", "/blobs/sha256:", FaultAction.RedirectToBlobStorage(), times: FaultProxy.Always);
        var user = source.Credentials!;
        using var engine = ReliabilityEngine.Create(ReliabilityEngine.Credentials(proxy.Host, user.UserName, user.Password));

        var result = await engine.CopyAsync($"{proxy.Host}/dev/app:v1", destination.Reference("dev/app", "v1"), ct: Ct);

        Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        var storage = proxy.BlobStorage.Requests;
        Assert.That(storage, Has.Count.EqualTo(image.Blobs.Count));
        Assert.That(storage.Where(r => r.HadAuthorization), Is.Empty, "the bearer token stayed with the registry");
        Assert.That(proxy.Requests.Where(r => r.Fault is RedirectFault).Select(r => r.HadAuthorization), Is.All.True);
        using var raw = destination.CreateClient();
        Assert.That(await DestinationState.AssertWholeOrAbsentAsync(raw, "dev/app", "v1", image.Digest, Ct), Is.True);
    }

    private async Task<PushedImage> PushAsAdminAsync(RegistryServer registry, string repository, string tag)
    {
        // The setup client pushes into dev/*, which the promoter may only pull: grant push only while it sets up.
        var tokens = registry.TokenServer!;
        var grants = tokens.Options.Grants;
        tokens.SetGrants([TokenGrant.PullPush(TokenGrant.AnyUser)]);
        try { return await TestImages.PushRandomImageAsync(registry, repository, tag, layerCount: 2, cancellationToken: Ct); }
        finally { tokens.SetGrants(grants); }
    }

    private static ImagePromotion.Registry.ImageReference Reference(string host, string path) =>
        ImagePromotion.Registry.ImageReference.Parse($"{host}/{path}");

    private static string Show(IEnumerable<TokenRequest> requests) =>
        string.Join("; ", requests.Select(r => $"{r.Status} {string.Join(' ', r.Scopes)}"));
}
