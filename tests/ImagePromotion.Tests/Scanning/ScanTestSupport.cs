using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.Versioning;
using System.Text;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

/// <summary>A clock that says what the test says: allowlist expiry must not depend on the day the suite runs.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>
/// Credential-shaped strings built at run time, so the test sources hold nothing a secret scanner
/// (ours, or a forge's push protection) would flag.
/// </summary>
internal static class FakeSecrets
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";

    public static string Chars(int count, int seed, bool upperAndDigitsOnly = false)
    {
        var alphabet = upperAndDigitsOnly ? Alphabet[..36] : Alphabet;
        var random = new Random(seed);
        return new string(Enumerable.Range(0, count).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
    }

    public static string AwsAccessKeyId => "AK" + "IA" + Chars(16, 1, upperAndDigitsOnly: true);
    public static string AwsSecretKey => Chars(40, 2);
    public static string GitHubToken => "gh" + "p_" + Chars(36, 3);
    public static string SlackToken => "xo" + "xb-" + Chars(12, 4) + "-" + Chars(24, 5);
    public static string GoogleApiKey => "AI" + "za" + Chars(35, 6);
    public static string StripeKey => "sk" + "_live_" + Chars(24, 7);
    public static string Jwt => "ey" + "J" + Chars(20, 8) + ".ey" + "J" + Chars(30, 9) + "." + Chars(43, 10);
    public static string PemHeader => "-----BEGIN " + "RSA PRIVATE KEY-----";
    public static string PemBody => Chars(64, 11);

    public static string PemKey => PemHeader + "\n" + PemBody + "\n" + Chars(64, 12) + "\n-----END " + "RSA PRIVATE KEY-----\n";
}

/// <summary>Builds real layer tarballs (tar, tar+gzip) the way image builders write them.</summary>
internal sealed class LayerBuilder
{
    private readonly List<(string Path, byte[]? Content)> _entries = new();

    public LayerBuilder Directory(string path) { _entries.Add((path.TrimEnd('/') + "/", null)); return this; }
    public LayerBuilder File(string path, string text) => File(path, Encoding.UTF8.GetBytes(text));
    public LayerBuilder File(string path, byte[] content) { _entries.Add((path, content)); return this; }

    public byte[] Tar()
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, content) in _entries)
            {
                if (content is null) { writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, path)); continue; }
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(content) });
            }
        }
        return buffer.ToArray();
    }

    public byte[] TarGzip()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Tar());
        return buffer.ToArray();
    }

    public static Digest DigestOf(byte[] blob) => Digest.Sha256(blob);
}

/// <summary>
/// What a registry response body looks like to the scanner: it can only be read forward. Seeking or asking
/// the length throws, so a test fails if the scanner ever relies on either.
/// </summary>
internal sealed class ForwardOnlyStream(byte[] content) : Stream
{
    private readonly MemoryStream _inner = new(content, writable: false);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException("forward-only");
    public override long Position { get => throw new NotSupportedException("forward-only"); set => throw new NotSupportedException("forward-only"); }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("forward-only");
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

internal static class ScanCorpus
{
    public static string Directory => Path.Combine(TestContext.CurrentContext.TestDirectory, "Corpus", "scan");
    public static string PathOf(string name) => Path.Combine(Directory, name);
    public static byte[] Bytes(string name) => System.IO.File.ReadAllBytes(PathOf(name));

    /// <summary>A fresh directory holding a corpus script under the given executable name, marked executable.</summary>
    [UnsupportedOSPlatform("windows")]
    public static string InstallScript(string script, string asName, params string[] alongside)
    {
        var dir = Path.Combine(Path.GetTempPath(), "scan-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, asName);
        System.IO.File.Copy(PathOf(script), target);
        System.IO.File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var file in alongside) System.IO.File.Copy(PathOf(file), Path.Combine(dir, file));
        return dir;
    }

    public static ImageReference Image => ImageReference.Parse(
        "registry.example.com/shop/api@sha256:3f1c9a0e5d7b2c4a6e8f0b1d3c5a7e9f1b3d5c7a9e1f3b5d7c9a1e3f5b7d9c1a");
}
