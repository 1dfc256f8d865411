using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ImagePromotion.Registry;

/// <summary>A content digest as the OCI image spec defines it: <c>algorithm:encoded</c>.</summary>
public readonly partial record struct Digest
{
    /// <summary>The algorithm: <c>sha256</c> or <c>sha512</c>.</summary>
    public string Algorithm { get; }
    /// <summary>The hash in lower-case hex: 64 characters for sha256, 128 for sha512.</summary>
    public string Encoded { get; }

    private Digest(string algorithm, string encoded) { Algorithm = algorithm; Encoded = encoded; }

    /// <summary><c>algorithm:encoded</c>.</summary>
    public override string ToString() => Algorithm + ":" + Encoded;

    /// <summary>Parses <c>sha256:&lt;64 hex&gt;</c> or <c>sha512:&lt;128 hex&gt;</c>, lower case, nothing around it.</summary>
    /// <exception cref="PromotionException">Any other text.</exception>
    public static Digest Parse(string value)
    {
        if (TryParse(value, out var d)) return d;
        throw new PromotionException($"invalid digest '{value}': expected sha256:<64 lowercase hex> (or sha512:<128 hex>)");
    }

    /// <summary>As <see cref="Parse"/>, false instead of an exception (for null, other algorithms, wrong lengths, upper-case hex or a trailing newline).</summary>
    public static bool TryParse(string? value, out Digest digest)
    {
        digest = default;
        if (string.IsNullOrEmpty(value)) return false;
        var m = Shape().Match(value);
        if (!m.Success) return false;
        var alg = m.Groups[1].Value;
        var enc = m.Groups[2].Value;
        if (alg == "sha256" && enc.Length != 64) return false;
        if (alg == "sha512" && enc.Length != 128) return false;
        if (alg != "sha256" && alg != "sha512") return false;
        digest = new Digest(alg, enc);
        return true;
    }

    /// <summary>The sha256 digest of <paramref name="content"/>.</summary>
    public static Digest Sha256(ReadOnlySpan<byte> content) =>
        new("sha256", Convert.ToHexStringLower(SHA256.HashData(content)));

    /// <summary>A sha256 digest from a finished 32-byte hash.</summary>
    public static Digest FromSha256Hash(byte[] hash) => new("sha256", Convert.ToHexStringLower(hash));

    /// <summary>Checks bytes against this digest with the digest's own algorithm.</summary>
    public bool Matches(ReadOnlySpan<byte> content) => Algorithm switch
    {
        "sha256" => Convert.ToHexStringLower(SHA256.HashData(content)) == Encoded,
        "sha512" => Convert.ToHexStringLower(SHA512.HashData(content)) == Encoded,
        _ => false,
    };

    /// <summary>An incremental hasher for this digest's algorithm, for checking streamed blobs.</summary>
    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(
        Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

    // \z, not $: .NET's $ also matches before a final newline, which would accept "sha256:…\n".
    [GeneratedRegex("^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-f0-9]{32,})\\z")]
    private static partial Regex Shape();
}
