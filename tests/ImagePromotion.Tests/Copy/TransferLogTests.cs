using ImagePromotion.Copy;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Copy;

/// <summary>What a CI log shows of a copy: human sizes, a line per blob, a line per retry, progress at most every 10 s.</summary>
[TestFixture]
public sealed class TransferLogTests
{
    private static readonly Digest Blob = Digest.Parse("sha256:" + new string('a', 64));

    [TestCase(0L, "0 B")]
    [TestCase(1023L, "1023 B")]
    [TestCase(1536L, "1.5 KiB")]
    [TestCase(314574836L, "300.0 MiB")]
    [TestCase(1127428915L, "1.05 GiB")]
    public void Sizes_read_in_binary_units(long bytes, string expected) => Assert.That(HumanSize.Bytes(bytes), Is.EqualTo(expected));

    [Test]
    public void Rates_and_durations_read_as_people_say_them()
    {
        Assert.That(HumanSize.Rate(15 * 1024 * 1024), Is.EqualTo("15.0 MiB/s"));
        Assert.That(HumanSize.Rate(double.NaN), Is.EqualTo("-"));
        Assert.That(HumanSize.Duration(TimeSpan.FromMilliseconds(350)), Is.EqualTo("350 ms"));
        Assert.That(HumanSize.Duration(TimeSpan.FromSeconds(1.25)), Is.EqualTo("1.2 s").Or.EqualTo("1.3 s"));
        Assert.That(HumanSize.Duration(TimeSpan.FromSeconds(245)), Is.EqualTo("4 min 05 s"));
    }

    [Test]
    public void Blob_and_retry_lines_are_written_at_normal_verbosity()
    {
        var log = new MemoryLog();
        var writer = new TransferLog(log);

        writer.OnNext(new BlobStarted("reg.example", "team/app", Blob, 300L * 1024 * 1024, 1));
        writer.OnNext(new RetryScheduled("reg.example", "PUT /v2/team/app/blobs/uploads/…", 2, 5, TimeSpan.FromSeconds(3), "429 Too Many Requests, Retry-After 3 s"));
        writer.OnNext(new BlobFinished("reg.example", "team/app", Blob, 300L * 1024 * 1024, TimeSpan.FromSeconds(20), 15 * 1024 * 1024, "uploaded"));

        Assert.That(log.Lines, Is.EqualTo(new[]
        {
            "info: blob sha256:aaaaaaaaaaaa 300.0 MiB: copying to reg.example/team/app",
            "info: retrying (2/5) in 3.0 s: reg.example: PUT /v2/team/app/blobs/uploads/…: 429 Too Many Requests, Retry-After 3 s",
            "info: blob sha256:aaaaaaaaaaaa 300.0 MiB: uploaded in 20.0 s (15.0 MiB/s)",
        }));
    }

    [Test]
    public void Progress_of_a_long_copy_is_written_at_most_every_ten_seconds()
    {
        var log = new MemoryLog();
        var clock = new ManualClock();
        var writer = new TransferLog(log, clock);
        const long total = 300L * 1024 * 1024;
        writer.OnNext(new CopyStarted("src", "dst", 1, total));

        for (var second = 1; second <= 25; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            writer.OnNext(new CopyProgress("dst", second * 10L * 1024 * 1024, total, 10 * 1024 * 1024));
        }
        writer.OnNext(new CopyFinished("dst", total, TimeSpan.FromSeconds(25), null));

        Assert.That(log.Lines, Is.EqualTo(new[]
        {
            "info: dst: 100.0 MiB of 300.0 MiB, 10.0 MiB/s",
            "info: dst: 200.0 MiB of 300.0 MiB, 10.0 MiB/s",
        }));
    }

    [Test]
    public async Task A_real_copy_logs_each_streamed_blob_with_its_size_and_raises_events_for_a_host()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var dev = await RegistryServer.StartAsync(cancellationToken: timeout.Token);
        await using var prod = await RegistryServer.StartAsync(cancellationToken: timeout.Token);
        var image = await TestImages.PushRandomImageAsync(dev, "log/app", "v1", layerCount: 1, layerSize: 3 * 1024 * 1024, cancellationToken: timeout.Token);
        using var engine = new EngineHarness();
        var events = new System.Collections.Concurrent.ConcurrentQueue<TransferEvent>();
        using var _ = engine.Transport.Events.Subscribe(new RegistryInteropTests.Collector<TransferEvent>(events));

        await engine.CopyAsync(dev.Reference("log/app", "v1"), prod.Reference("log/app", "v1"), ct: timeout.Token);

        var layer = image.Layers[0];
        Assert.That(engine.Log.Lines, Does.Contain($"info: blob {CopyPlan.Short(layer.Digest)} {HumanSize.Bytes(layer.Size)}: copying to {prod.Host}/log/app"));
        Assert.That(engine.Log.Lines, Has.Some.StartsWith($"info: blob {CopyPlan.Short(layer.Digest)} {HumanSize.Bytes(layer.Size)}: uploaded in "));
        var started = events.OfType<CopyStarted>().Single();
        Assert.That(started.TotalBytes, Is.EqualTo(image.Blobs.Sum(b => b.Size)));
        Assert.That(events.OfType<BlobFinished>().Select(e => e.Digest), Is.EquivalentTo(image.Blobs.Select(b => b.Digest)));
        Assert.That(events.OfType<BlobProgress>().Where(e => e.Digest == layer.Digest).Last().BytesDone, Is.EqualTo(layer.Size));
        Assert.That(events.OfType<CopyFinished>().Single().Failure, Is.Null);
        Assert.That(events.Where(e => e is not CopyStarted).Select(e => e.Copy), Is.All.EqualTo(prod.Reference("log/app", "v1")), "events name their copy");
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
