using ImagePromotion.Copy;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// The destination registry process dies while a large layer is being uploaded to it. The copy stops
/// with one line and no tag; once the registry is back, a re-run completes with every blob whole.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class RegistryCrashTests
{
    [Test]
    public async Task Registry_killed_mid_upload_leaves_no_tag_and_a_rerun_after_restart_completes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var source = await RegistryServer.StartAsync(cancellationToken: ct);
        await using var destination = await RegistryServer.StartAsync(cancellationToken: ct);
        const int big = 6 * 1024 * 1024;
        var image = await TestImages.PushRandomImageAsync(source, "crash/app", "v1", layerCount: 2, layerSize: big, cancellationToken: ct);
        var layer = image.Layers.MaxBy(l => l.Size)!;
        using var engine = ReliabilityEngine.Create(options: ReliabilityEngine.Fast with { MaxAttempts = 2, ConnectTimeout = TimeSpan.FromSeconds(1) });
        var to = ImageReference.Parse(destination.Reference("crash/app", "v1"));
        // About 3 s per big layer: long enough to kill the registry in the middle of the upload.
        var slow = new ThrottledSource(new RegistrySource(engine.Copier.Client(source.Host), "crash/app"), 2 * 1024 * 1024, layer.Digest, layer.Size);

        var copy = engine.Copier.CopyAsync(slow, "v1", to, new CopyOptions { BlobAttempts = 2 }, ct);
        await slow.HalfwayThrough.WaitAsync(ct);
        await destination.StopAsync();
        var ex = Assert.CatchAsync<Exception>(() => copy)!;

        OneLine.AssertClear(ex, destination.Host);
        await destination.RestartAsync(ct);
        using var raw = destination.CreateClient();
        Assert.That(await raw.GetManifestDigestAsync("crash/app", "v1", ct), Is.Null, "nothing was tagged");

        var rerun = await engine.CopyAsync(source.Reference("crash/app", "v1"), destination.Reference("crash/app", "v1"), ct: ct);

        Assert.That(rerun.DestinationDigest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(await DestinationState.AssertWholeOrAbsentAsync(raw, "crash/app", "v1", image.Digest, ct), Is.True);
        FaultMatrix.Record("destination registry killed mid-upload of a 6 MiB layer, then restarted", "(no proxy)",
            $"first run fails in one line, no tag (\"{ex.Message[..Math.Min(100, ex.Message.Length)]}…\"); re-run completes whole");
    }
}
