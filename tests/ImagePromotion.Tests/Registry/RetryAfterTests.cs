using System.Net;
using System.Net.Http.Headers;
using ImagePromotion.Registry.Transport;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

[TestFixture]
public sealed class RetryAfterTests
{
    private static HttpResponseMessage TooMany(string? retryAfter)
    {
        var r = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        if (retryAfter is not null) r.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        return r;
    }

    [Test]
    public void Seconds_are_taken_as_given()
    {
        using var r = TooMany("120");
        Assert.That(RegistryRetry.RetryAfter(r), Is.EqualTo(TimeSpan.FromSeconds(120)));
    }

    [Test]
    public void Zero_seconds_means_now()
    {
        using var r = TooMany("0");
        Assert.That(RegistryRetry.RetryAfter(r), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void An_http_date_becomes_the_wait_until_then()
    {
        var at = DateTimeOffset.UtcNow.AddSeconds(30);
        using var r = TooMany(at.ToString("R"));

        // HTTP dates have whole seconds.
        Assert.That(RegistryRetry.RetryAfter(r)!.Value.TotalSeconds, Is.InRange(28.0, 30.5));
    }

    [Test]
    public void An_http_date_in_the_past_means_now()
    {
        using var r = TooMany(DateTimeOffset.UtcNow.AddMinutes(-5).ToString("R"));
        Assert.That(RegistryRetry.RetryAfter(r), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void No_header_or_an_unreadable_one_leaves_the_backoff_to_decide()
    {
        using var none = TooMany(null);
        using var junk = TooMany("soon");
        Assert.That(RegistryRetry.RetryAfter(none), Is.Null);
        Assert.That(RegistryRetry.RetryAfter(junk), Is.Null);
    }

    [Test]
    public void Typed_header_values_are_read_too()
    {
        using var r = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
        Assert.That(RegistryRetry.RetryAfter(r), Is.EqualTo(TimeSpan.FromSeconds(7)));
    }

    [TestCase(HttpStatusCode.TooManyRequests, true)]
    [TestCase(HttpStatusCode.ServiceUnavailable, true)]
    [TestCase(HttpStatusCode.BadGateway, true)]
    [TestCase(HttpStatusCode.RequestTimeout, true)]
    [TestCase(HttpStatusCode.NotFound, false)]
    [TestCase(HttpStatusCode.Unauthorized, false)]
    [TestCase(HttpStatusCode.NotImplemented, false)]
    public void Only_transient_statuses_are_retried(HttpStatusCode status, bool retried) =>
        Assert.That(RegistryRetry.IsRetryableStatus(status), Is.EqualTo(retried));

    [Test]
    public void Streamed_bodies_are_never_replayed()
    {
        using var stream = new StreamContent(new MemoryStream(new byte[4]));
        using var bytes = new ByteArrayContent(new byte[4]);
        Assert.That(RetryHandler.IsReplayable(null), Is.True);
        Assert.That(RetryHandler.IsReplayable(bytes), Is.True);
        Assert.That(RetryHandler.IsReplayable(stream), Is.False);
    }
}
