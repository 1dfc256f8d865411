using System.Text;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

[TestFixture]
public sealed class DigestTests
{
    private const string EmptySha256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Test]
    public void Sha256_of_known_content_is_the_published_value()
    {
        Assert.That(Digest.Sha256(ReadOnlySpan<byte>.Empty).ToString(), Is.EqualTo(EmptySha256));
        Assert.That(Digest.Sha256("abc"u8).ToString(),
            Is.EqualTo("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }

    [Test]
    public void Parse_splits_algorithm_and_encoded_and_round_trips()
    {
        var d = Digest.Parse(EmptySha256);

        Assert.That(d.Algorithm, Is.EqualTo("sha256"));
        Assert.That(d.Encoded, Has.Length.EqualTo(64));
        Assert.That(d.ToString(), Is.EqualTo(EmptySha256));
        Assert.That(d, Is.EqualTo(Digest.Sha256(Array.Empty<byte>())));
    }

    [Test]
    public void Sha512_digests_are_accepted_and_checked_with_sha512()
    {
        var content = Encoding.UTF8.GetBytes("layer");
        var hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA512.HashData(content));

        var d = Digest.Parse("sha512:" + hex);

        Assert.That(d.Matches(content), Is.True);
        Assert.That(d.Matches(Encoding.UTF8.GetBytes("other")), Is.False);
        using var hash = d.CreateHash();
        hash.AppendData(content);
        Assert.That(Convert.ToHexStringLower(hash.GetHashAndReset()), Is.EqualTo(hex));
    }

    [Test]
    public void Matches_compares_content_with_the_digest()
    {
        var d = Digest.Sha256("hello"u8);

        Assert.That(d.Matches("hello"u8), Is.True);
        Assert.That(d.Matches("hellO"u8), Is.False);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]             // no algorithm
    [TestCase("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]      // upper-case hex
    [TestCase("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]       // 63 hex
    [TestCase("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")]     // 65 hex
    [TestCase("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]      // sha512 needs 128
    [TestCase("md5:0123456789abcdef0123456789abcdef")]                                           // unknown algorithm
    [TestCase("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g")]      // not hex
    [TestCase("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")]    // trailing newline
    [TestCase(" sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]     // white space
    public void Malformed_digests_are_refused(string? text)
    {
        Assert.That(Digest.TryParse(text, out _), Is.False);
        if (text is null) return;
        var ex = Assert.Catch<PromotionException>(() => Digest.Parse(text))!;
        Assert.That(ex.Message, Does.Contain($"'{text.Replace('\n', ' ')}'")); // messages are one line
        Assert.That(ex.Message, Does.Contain("sha256:<64 lowercase hex>"));
    }
}
