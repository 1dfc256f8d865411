using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Copy;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// Two promotions into one tag at once. Registries have no compare-and-swap on tags, so the copier looks
/// at the tag again just before writing it and reads it back just after; these tests move the tag inside
/// each of those two gaps on purpose, then race real copies round after round.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ConcurrencyTests
{
    private RegistryServer _source = null!;
    private RegistryServer _destination = null!;
    private RegistryTestClient _destinationRaw = null!;
    private CancellationTokenSource _timeout = null!;
    private int _n;

    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task Start()
    {
        _timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var source = RegistryServer.StartAsync(cancellationToken: Ct);
        var destination = RegistryServer.StartAsync(cancellationToken: Ct);
        _source = await source;
        _destination = await destination;
        _destinationRaw = _destination.CreateClient();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _destinationRaw.Dispose();
        await _source.DisposeAsync();
        await _destination.DisposeAsync();
        _timeout.Dispose();
    }

    private async Task<(PushedImage Old, PushedImage Incoming, PushedImage Rival, string Repository)> ThreeImagesAsync()
    {
        var repository = $"race/app{Interlocked.Increment(ref _n)}";
        var old = await TestImages.PushRandomImageAsync(_destination, repository, "live", layerCount: 1, cancellationToken: Ct);
        var incoming = await TestImages.PushRandomImageAsync(_source, repository, "v2", layerCount: 3, layerSize: 64 * 1024, cancellationToken: Ct);
        var rival = await TestImages.PushRandomImageAsync(_destination, repository, null, layerCount: 1, cancellationToken: Ct);
        return (old, incoming, rival, repository);
    }

    private static async Task WhenHitAsync(FaultRule rule, CancellationToken ct)
    {
        while (rule.Hits == 0) await Task.Delay(10, ct);
    }

    [Test]
    public async Task Tag_moved_by_another_run_while_blobs_were_copied_is_not_overwritten()
    {
        var (old, incoming, rival, repository) = await ThreeImagesAsync();
        await using var proxy = await FaultProxy.StartAsync(_destination, Ct);
        // The last blob upload hangs a moment: the window in which another promotion moves the tag.
        var upload = proxy.Inject("PUT", "/blobs/uploads/", FaultAction.Stall(TimeSpan.FromSeconds(1.5)), times: FaultProxy.Always, skip: 3);
        using var engine = ReliabilityEngine.Create();

        var copy = engine.CopyAsync(_source.Reference(repository, "v2"), $"{proxy.Host}/{repository}:live", ct: Ct);
        await WhenHitAsync(upload, Ct);
        await _destinationRaw.PushManifestAsync(repository, "live", rival.MediaType, rival.ManifestBytes, Ct);
        var ex = Assert.ThrowsAsync<PromotionConflictException>(() => copy)!;

        OneLine.AssertClear(ex, $"{proxy.Host}/{repository}:live", old.Digest.ToString(), rival.Digest.ToString(), "the tag was not written");
        Assert.That(await _destinationRaw.GetManifestDigestAsync(repository, "live", Ct), Is.EqualTo(rival.Digest), "the other run's tag stands");
        Assert.That(proxy.Requests.Count(r => r.Method == "PUT" && r.PathAndQuery.Contains("/manifests/")), Is.Zero);
        Assert.That(incoming.Digest, Is.Not.EqualTo(rival.Digest));
    }

    [Test]
    public async Task Tag_moved_between_our_write_and_the_read_back_is_reported_as_a_conflict()
    {
        var (_, incoming, rival, repository) = await ThreeImagesAsync();
        await using var proxy = await FaultProxy.StartAsync(_destination, Ct);
        // HEADs of the tag: the plan's look, the look before the write, then the read-back, which hangs.
        var readBack = proxy.Inject("HEAD", "/manifests/live$", FaultAction.Stall(TimeSpan.FromSeconds(1)), skip: 2);
        using var engine = ReliabilityEngine.Create();

        var copy = engine.CopyAsync(_source.Reference(repository, "v2"), $"{proxy.Host}/{repository}:live", ct: Ct);
        await WhenHitAsync(readBack, Ct);
        await _destinationRaw.PushManifestAsync(repository, "live", rival.MediaType, rival.ManifestBytes, Ct);
        var ex = Assert.ThrowsAsync<PromotionConflictException>(() => copy)!;

        OneLine.AssertClear(ex, "another promotion moved", $"{repository}:live", $"to {rival.Digest}", incoming.Digest.ToString());
        Assert.That(proxy.Requests.Count(r => r.Method == "PUT" && r.PathAndQuery.EndsWith("/manifests/live", StringComparison.Ordinal)), Is.EqualTo(1));
        // Both images are whole in the repository; the tag names the one written last.
        await DestinationState.AssertWholeOrAbsentAsync(_destinationRaw, repository, "live", rival.Digest, Ct);
        await DestinationState.AssertWholeOrAbsentAsync(_destinationRaw, repository, incoming.Digest.ToString(), incoming.Digest, Ct);
    }

    [Test]
    public async Task Twenty_rounds_of_two_concurrent_promotions_end_with_one_whole_image_named_by_a_run_that_succeeded()
    {
        const int rounds = 20;
        const string repository = "race/shared";
        var pairs = new List<(PushedImage A, PushedImage B)>();
        for (var i = 0; i < rounds; i++)
            pairs.Add((await TestImages.PushRandomImageAsync(_source, "race/a", $"r{i}", layerCount: 2, layerSize: 32 * 1024, cancellationToken: Ct),
                       await TestImages.PushRandomImageAsync(_source, "race/b", $"r{i}", layerCount: 2, layerSize: 32 * 1024, cancellationToken: Ct)));
        var tally = new Dictionary<string, int>();

        for (var i = 0; i < rounds; i++)
        {
            var (a, b) = pairs[i];
            // Two engines: two CI jobs, no shared state.
            using var first = ReliabilityEngine.Create();
            using var second = ReliabilityEngine.Create();
            var to = _destination.Reference(repository, "live");
            var runs = await Task.WhenAll(Outcome(first, _source.Reference("race/a", $"r{i}"), to), Outcome(second, _source.Reference("race/b", $"r{i}"), to));

            var final = await _destinationRaw.GetManifestDigestAsync(repository, "live", Ct);
            Assert.That(final, Is.EqualTo(a.Digest).Or.EqualTo(b.Digest), $"round {i}: the tag names one of the two");
            await DestinationState.AssertWholeOrAbsentAsync(_destinationRaw, repository, "live", final!.Value, Ct);
            var winner = final == a.Digest ? runs[0] : runs[1];
            Assert.That(winner.Error, Is.Null, $"round {i}: the run whose digest stands reported success");
            foreach (var run in runs)
            {
                // The record of both is complete: a result with the digest written, or a conflict naming the tag.
                if (run.Error is { } e)
                {
                    Assert.That(e, Is.InstanceOf<PromotionConflictException>(), e.ToString());
                    OneLine.AssertClear(e, $"{repository}:live");
                }
                else Assert.That(run.Result!.DestinationDigest, Is.EqualTo(run.Result.SourceDigest));
            }
            var key = runs.Count(r => r.Error is not null) switch
            {
                0 => "both reported success (the later write came after the earlier run's read-back: the residual window)",
                1 => "one succeeded, the other reported a conflict",
                _ => "both reported a conflict",
            };
            tally[key] = tally.GetValueOrDefault(key) + 1;
        }

        TestContext.Progress.WriteLine($"{rounds} rounds: " + string.Join("; ", tally.Select(kv => $"{kv.Value}x {kv.Key}")));
        Assert.That(tally.ContainsKey("both reported a conflict"), Is.False, "the last writer always reads its own digest back");
        FaultMatrix.Record($"{rounds} rounds of two concurrent promotions into one tag", "(no proxy)",
            "tag always one of the two digests, whole, named by a run that succeeded; " + string.Join("; ", tally.Select(kv => $"{kv.Value}x {kv.Key}")));
    }

    private sealed record RunOutcome(CopyResult? Result, Exception? Error);

    private async Task<RunOutcome> Outcome(EngineHarness engine, string from, string to)
    {
        try { return new RunOutcome(await engine.CopyAsync(from, to, ct: Ct), null); }
        catch (PromotionException ex) { return new RunOutcome(null, ex); }
    }
}
