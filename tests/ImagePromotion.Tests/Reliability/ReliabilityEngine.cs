using ImagePromotion.Copy;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Copy;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// The engine harness of the copy tests with this suite's defaults: retries and timeouts short enough for
/// fault tests, and the concurrent-promotion tag guard on, as environment promotions use it.
/// </summary>
internal static class ReliabilityEngine
{
    public static TransportOptions Fast { get; } = new()
    {
        MaxAttempts = 4,
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(200),
        MaxRetryAfter = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(3),
        ResponseHeadersTimeout = TimeSpan.FromSeconds(10),
    };

    public static EngineHarness Create(IReadOnlyDictionary<string, string?>? environment = null, TransportOptions? options = null) =>
        new(environment, options ?? Fast, new CopyOptions { BlobAttempts = 3, GuardTag = true });

    public static Dictionary<string, string?> Credentials(string host, string user, string password) =>
        EngineHarness.Credentials(host, user, password);
}

/// <summary>What the destination registry itself says, independent of the engine under test.</summary>
internal static class DestinationState
{
    /// <summary>
    /// The invariant of every fault: the tag is either absent (nothing published) or points at
    /// <paramref name="expected"/> with every blob present and hashing to its digest.
    /// Returns whether the tag exists.
    /// </summary>
    public static async Task<bool> AssertWholeOrAbsentAsync(RegistryTestClient registry, string repository, string tag,
        Digest expected, CancellationToken ct)
    {
        var manifest = await registry.GetManifestAsync(repository, tag, ct);
        if (manifest is null) return false;
        Assert.That(manifest.Digest, Is.EqualTo(expected), $"{repository}:{tag} points at another digest");
        Assert.That(Digest.Sha256(manifest.Bytes), Is.EqualTo(expected), "the manifest bytes hash to the tag's digest");
        await AssertBlobsWholeAsync(registry, repository, manifest.Bytes, ct);
        return true;
    }

    public static async Task AssertBlobsWholeAsync(RegistryTestClient registry, string repository, byte[] manifestBytes, CancellationToken ct)
    {
        var parsed = Manifest.Parse(manifestBytes, null, repository);
        Assert.That(parsed.Blobs, Is.Not.Empty);
        foreach (var blob in parsed.Blobs)
        {
            var bytes = await registry.GetBlobAsync(repository, blob.Digest, ct);
            Assert.That(bytes, Is.Not.Null, $"blob {blob.Digest} of {repository} is missing");
            Assert.That(Digest.Sha256(bytes!), Is.EqualTo(blob.Digest), $"blob {blob.Digest} of {repository} is corrupt");
            Assert.That(bytes!.LongLength, Is.EqualTo(blob.Size));
        }
    }
}

/// <summary>How a user-facing failure must look.</summary>
internal static class OneLine
{
    public static void AssertClear(Exception ex, params string[] mentions)
    {
        Assert.That(ex, Is.InstanceOf<PromotionException>(), ex.ToString());
        Assert.That(ex.Message, Does.Not.Contain("\n").And.Not.Contain("\r"));
        Assert.That(ex.Message, Does.Not.Contain("   at "), "no stack trace in the message");
        Assert.That(ex.Message.Length, Is.LessThan(600), ex.Message);
        foreach (var m in mentions) Assert.That(ex.Message, Does.Contain(m));
    }
}
