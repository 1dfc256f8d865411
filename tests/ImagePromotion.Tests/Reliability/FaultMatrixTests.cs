using ImagePromotion.Copy;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;
using static ImagePromotion.Tests.Reliability.FaultOutcome;
using static ImagePromotion.Tests.Reliability.FaultSide;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// The fault matrix: a cross-registry copy of a three-layer image with a streaming fault proxy in front
/// of the source (Basic auth) or of the destination. Whatever the fault, the copy completes with the
/// source digest or fails with one clear line, and the destination tag is never left pointing at an
/// image with a missing or corrupt blob (checked against the destination registry itself).
/// </summary>
[TestFixture, NonParallelizable]
public sealed class FaultMatrixTests
{
    private const int LayerSize = 256 * 1024;
    private const string User = "promoter";
    private static readonly string Password = "pw-" + Guid.NewGuid().ToString("N");

    private RegistryServer _source = null!;
    private RegistryServer _destination = null!;
    private RegistryTestClient _destinationRaw = null!;
    private int _n;

    private static string AnyBlob(PushedImage _) => "/blobs/sha256:";
    private static string FirstLayer(PushedImage i) => $"/blobs/{i.Layers[0].Digest}";
    private static string Manifests(PushedImage _) => "/manifests/";
    private static string Uploads(PushedImage _) => "/blobs/uploads/";
    private static Func<PushedImage, FaultAction> Always(FaultAction a) => _ => a;

    public static IEnumerable<FaultCase> Cases()
    {
        // Source side: reads of manifests and blobs.
        yield return new("429 Retry-After: 1 (seconds) on blob GETs", Source, "GET", AnyBlob, Always(FaultAction.TooManyRequests(TimeSpan.FromSeconds(1))), 2, Completes);
        yield return new("429 Retry-After: HTTP-date on blob GETs", Source, "GET", AnyBlob, _ => FaultAction.TooManyRequests(DateTimeOffset.UtcNow.AddSeconds(2)), 1, Completes);
        yield return new("429 Retry-After: 600 s (over the limit)", Source, "GET", Manifests, Always(FaultAction.TooManyRequests(TimeSpan.FromMinutes(10))), FaultProxy.Always, FailsClearly, "rate-limiting");
        yield return new("500 burst (3) on blob GETs", Source, "GET", AnyBlob, Always(FaultAction.Status(500)), 3, Completes);
        yield return new("502 burst (3) on blob GETs", Source, "GET", AnyBlob, Always(FaultAction.Status(502)), 3, Completes);
        yield return new("503 burst (3) on the manifest GET", Source, "GET", Manifests, Always(FaultAction.Status(503)), 3, Completes);
        yield return new("503 on every blob GET", Source, "GET", AnyBlob, Always(FaultAction.Status(503)), FaultProxy.Always, FailsClearly, "503");
        yield return new("reset halfway through a layer GET", Source, "GET", FirstLayer, Always(FaultAction.ResetAfter(LayerSize / 2)), 1, Completes);
        yield return new("reset halfway through every GET of a layer", Source, "GET", FirstLayer, Always(FaultAction.ResetAfter(LayerSize / 2)), FaultProxy.Always, FailsClearly, "from the source broke off");
        yield return new("truncated layer body (once)", Source, "GET", FirstLayer, Always(FaultAction.Truncate(LayerSize / 3)), 1, Completes);
        yield return new("truncated layer body (every GET)", Source, "GET", FirstLayer, Always(FaultAction.Truncate(LayerSize / 3)), FaultProxy.Always, FailsClearly, "check the source registry");
        yield return new("one corrupted byte in a layer (once)", Source, "GET", FirstLayer, Always(FaultAction.CorruptByte()), 1, Completes);
        yield return new("one corrupted byte in every GET of a layer", Source, "GET", FirstLayer, Always(FaultAction.CorruptByte()), FaultProxy.Always, FailsClearly, "hashing to");
        yield return new("one corrupted byte in the manifest GET", Source, "GET", Manifests, Always(FaultAction.CorruptByte(40)), FaultProxy.Always, FailsClearly, "hash to");
        yield return new("stall 3 s > 1 s header timeout on a layer GET (once)", Source, "GET", FirstLayer, Always(FaultAction.Stall(TimeSpan.FromSeconds(3))), 1, Completes)
        { HeadersTimeout = TimeSpan.FromSeconds(1) };
        yield return new("stall 3 s > 1 s header timeout on every layer GET", Source, "GET", FirstLayer, Always(FaultAction.Stall(TimeSpan.FromSeconds(3))), FaultProxy.Always, FailsClearly)
        { HeadersTimeout = TimeSpan.FromSeconds(1) };
        yield return new("blob GETs redirected (307) to storage on another host", Source, "GET", AnyBlob, Always(FaultAction.RedirectToBlobStorage()), FaultProxy.Always, Completes);

        // Destination side: look-ups, upload sessions, streamed PUTs and the manifest PUT.
        yield return new("429 Retry-After: 1 on upload POSTs", Destination, "POST", Uploads, Always(FaultAction.TooManyRequests(TimeSpan.FromSeconds(1))), 1, Completes);
        yield return new("429 Retry-After: HTTP-date on the manifest PUT", Destination, "PUT", Manifests, _ => FaultAction.TooManyRequests(DateTimeOffset.UtcNow.AddSeconds(2)), 1, Completes);
        yield return new("500 burst (3) on blob HEADs", Destination, "HEAD", AnyBlob, Always(FaultAction.Status(500)), 3, Completes);
        yield return new("502 burst (3) on the streamed blob PUTs", Destination, "PUT", Uploads, Always(FaultAction.Status(502)), 3, Completes);
        yield return new("503 burst (3) on the manifest PUT", Destination, "PUT", Manifests, Always(FaultAction.Status(503)), 3, Completes);
        yield return new("503 on every manifest PUT", Destination, "PUT", Manifests, Always(FaultAction.Status(503)), FaultProxy.Always, FailsClearly, "503");
        yield return new("reset after a blob PUT reached the registry", Destination, "PUT", Uploads, Always(FaultAction.ResetAfter(0)), 1, Completes);
        yield return new("stall 3 s > 1 s header timeout on the manifest PUT (once)", Destination, "PUT", Manifests, Always(FaultAction.Stall(TimeSpan.FromSeconds(3))), 1, Completes)
        { HeadersTimeout = TimeSpan.FromSeconds(1) };
        yield return new("stall 3 s > 1 s header timeout on every blob PUT", Destination, "PUT", Uploads, Always(FaultAction.Stall(TimeSpan.FromSeconds(3))), FaultProxy.Always, FailsClearly)
        { HeadersTimeout = TimeSpan.FromSeconds(1) };
    }

    [OneTimeSetUp]
    public async Task StartRegistries()
    {
        var source = RegistryServer.StartAsync(RegistryServerOptions.BasicAuth(User, Password));
        var destination = RegistryServer.StartAsync();
        _source = await source;
        _destination = await destination;
        _destinationRaw = _destination.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopRegistries()
    {
        _destinationRaw.Dispose();
        await _source.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Copy_completes_whole_or_fails_in_one_line_and_never_tags_a_broken_image(FaultCase fault)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var ct = timeout.Token;
        var repository = $"matrix/app{Interlocked.Increment(ref _n)}";
        var image = await TestImages.PushRandomImageAsync(_source, repository, "v1", layerCount: 3, layerSize: LayerSize, cancellationToken: ct);
        await using var proxy = await FaultProxy.StartAsync(fault.Side == Source ? _source : _destination, ct);
        var rule = proxy.Inject(fault.Method, fault.Path(image), fault.Fault(image), fault.Times);
        var sourceHost = fault.Side == Source ? proxy.Host : _source.Host;
        var destinationHost = fault.Side == Destination ? proxy.Host : _destination.Host;
        // Stall rows: a short header timeout and one retry keep each row to a few seconds.
        var options = fault.HeadersTimeout is { } headers
            ? ReliabilityEngine.Fast with { ResponseHeadersTimeout = headers, MaxAttempts = 2 }
            : ReliabilityEngine.Fast;
        using var engine = ReliabilityEngine.Create(ReliabilityEngine.Credentials(sourceHost, User, Password), options);

        CopyResult? result = null;
        Exception? failure = null;
        try { result = await engine.CopyAsync($"{sourceHost}/{repository}:v1", $"{destinationHost}/{repository}:v1", ct: ct); }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested) { failure = ex; }

        Assert.That(rule.Hits, Is.GreaterThan(0), "the fault was injected");
        var tagged = await DestinationState.AssertWholeOrAbsentAsync(_destinationRaw, repository, "v1", image.Digest, ct);
        if (result is not null)
        {
            Assert.That(result.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
            Assert.That(tagged, Is.True, "a completed copy left the tag");
            FaultMatrix.Record(fault, $"completes, digest identical, every blob verified (fault hit {rule.Hits}x)");
        }
        else
        {
            OneLine.AssertClear(failure!, fault.MessageMentions ?? "");
            Assert.That(tagged, Is.False, "a failed copy must not leave the tag: " + failure!.Message);
            FaultMatrix.Record(fault, $"fails in one line, tag not written: \"{Shorten(failure.Message)}\"");
        }
        Assert.That(fault.Expected == Completes ? result is not null : failure is not null, Is.True,
            $"expected {fault.Expected}, got {(failure?.Message ?? "completion")}");

        if (fault.Fault(image) is RedirectFault)
        {
            var storage = proxy.BlobStorage.Requests;
            Assert.That(storage, Has.Count.GreaterThanOrEqualTo(image.Blobs.Count), "blobs were read from the storage host");
            Assert.That(storage.Where(r => r.HadAuthorization), Is.Empty, "Authorization never reaches another host");
            Assert.That(proxy.Requests.Where(r => r.Fault is RedirectFault).Select(r => r.HadAuthorization), Is.All.True,
                "the registry itself did get the credentials");
        }
    }

    private static string Shorten(string message) => (message.Length > 140 ? message[..140] + "…" : message).Replace("|", "\\|");
}
