using System.Text;
using ImagePromotion.Logging;
using ImagePromotion.Registry.Auth;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

/// <summary>The token service's JSON answer, as <see cref="TokenClient"/> reads it.</summary>
[TestFixture]
public sealed class TokenResponseTests
{
    private static BearerToken Parse(string json) => TokenClient.Parse(Encoding.UTF8.GetBytes(json), "reg.example");

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N");

    [Test]
    public void Token_field_is_read_and_registered_as_a_secret()
    {
        var secret = Unique("tok");

        var t = Parse($$"""{"token":"{{secret}}","expires_in":300}""");

        Assert.That(t.Value, Is.EqualTo(secret));
        Assert.That(SecretRedactor.Shared.Redact("Bearer " + secret), Is.EqualTo("Bearer ***"));
        Assert.That(t.ToString(), Does.Not.Contain(secret));
    }

    [Test]
    public void Access_token_is_the_oauth2_fallback_and_token_wins_when_both_are_sent()
    {
        Assert.That(Parse("""{"access_token":"oauth-value-1"}""").Value, Is.EqualTo("oauth-value-1"));
        Assert.That(Parse("""{"access_token":"oauth-value-2","token":"docker-value"}""").Value, Is.EqualTo("docker-value"));
    }

    [Test]
    public void Expires_in_sets_the_lifetime_less_a_renewal_margin()
    {
        var before = DateTimeOffset.UtcNow;
        var t = Parse("""{"token":"abcd-300","expires_in":300}""");
        var after = DateTimeOffset.UtcNow;

        // 300 s less a 10 s margin, counted from now (no issued_at).
        Assert.That(t.ExpiresAt, Is.InRange(before.AddSeconds(290), after.AddSeconds(290)));
        Assert.That(t.IsFresh(after), Is.True);
        Assert.That(t.IsFresh(after.AddSeconds(291)), Is.False);
    }

    [Test]
    public void Without_expires_in_the_spec_default_of_60_seconds_applies()
    {
        var before = DateTimeOffset.UtcNow;
        var t = Parse("""{"token":"abcd-default"}""");

        Assert.That(t.ExpiresAt, Is.InRange(before.AddSeconds(49), DateTimeOffset.UtcNow.AddSeconds(50)));
        Assert.That(Parse("""{"token":"abcd-zero","expires_in":0}""").ExpiresAt,
            Is.InRange(before.AddSeconds(49), DateTimeOffset.UtcNow.AddSeconds(50)));
    }

    [Test]
    public void Short_lifetimes_are_honoured_with_a_proportional_margin()
    {
        var before = DateTimeOffset.UtcNow;
        var t = Parse("""{"token":"abcd-short","expires_in":4}""");

        // 4 s less a quarter: renewal comes before the registry would refuse it.
        Assert.That(t.ExpiresAt, Is.InRange(before.AddSeconds(3), DateTimeOffset.UtcNow.AddSeconds(3)));
    }

    [Test]
    public void Issued_at_in_the_past_shortens_what_is_left()
    {
        var issued = DateTimeOffset.UtcNow.AddSeconds(-100);
        var t = Parse($$"""{"token":"abcd-issued","expires_in":300,"issued_at":"{{issued:O}}"}""");

        Assert.That(t.ExpiresAt, Is.EqualTo(issued.AddSeconds(290)).Within(TimeSpan.FromMilliseconds(1)));
    }

    [Test]
    public void Issued_at_in_the_future_is_treated_as_now()
    {
        var before = DateTimeOffset.UtcNow;
        var t = Parse($$"""{"token":"abcd-skew","expires_in":300,"issued_at":"{{before.AddHours(2):O}}"}""");

        Assert.That(t.ExpiresAt, Is.InRange(before.AddSeconds(290), DateTimeOffset.UtcNow.AddSeconds(290)));
    }

    [TestCase("""{"expires_in":300}""", "without a token")]
    [TestCase("""{"token":""}""", "without a token")]
    [TestCase("""{"token":42}""", "without a token")]
    [TestCase("<html>login</html>", "not JSON")]
    public void Answers_without_a_usable_token_fail_naming_the_registry(string json, string why)
    {
        var ex = Assert.Catch<PromotionException>(() => Parse(json))!;

        Assert.That(ex.Message, Does.StartWith("registry reg.example:"));
        Assert.That(ex.Message, Does.Contain(why));
    }
}
