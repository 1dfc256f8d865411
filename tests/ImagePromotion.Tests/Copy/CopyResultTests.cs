using System.Globalization;
using System.Text.Json;
using ImagePromotion.Copy;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Copy;

/// <summary>The result file later phases read, and the plan a dry run prints.</summary>
[TestFixture]
public sealed class CopyResultTests
{
    [Test]
    public void Result_round_trips_through_camel_case_json_without_nulls()
    {
        var digest = Digest.Sha256("m"u8).ToString();
        var result = new CopyResult
        {
            Source = "127.0.0.1:5000/dev/app:v1",
            Destination = "127.0.0.1:5001/prod/app:v1",
            SourceDigest = digest,
            DestinationDigest = digest,
            MediaType = MediaTypes.OciIndex,
            BlobsCopied = 3,
            BytesUploaded = 12345,
            Requests = new Dictionary<string, int> { ["127.0.0.1:5000"] = 5, ["127.0.0.1:5001"] = 9 },
            Seconds = 1.5,
        };

        var json = result.ToJson();
        using var doc = JsonDocument.Parse(json);

        Assert.That(doc.RootElement.GetProperty("sourceDigest").GetString(), Is.EqualTo(digest));
        Assert.That(doc.RootElement.GetProperty("requests").GetProperty("127.0.0.1:5001").GetInt32(), Is.EqualTo(9));
        Assert.That(doc.RootElement.TryGetProperty("previousDigest", out _), Is.False, "nulls are left out");
        Assert.That(json, Does.Contain("application/vnd.oci.image.index.v1+json"), "no \\u002B escapes in media types");
        var back = CopyResult.FromJson(json);
        Assert.That(back with { Requests = result.Requests }, Is.EqualTo(result));
        Assert.That(back.Requests, Is.EquivalentTo(result.Requests));
    }

    [Test]
    public void An_empty_result_file_is_named()
    {
        var ex = Assert.Catch<PromotionException>(() => CopyResult.FromJson("null"))!;
        Assert.That(ex.Message, Does.Contain("copy result file"));
    }

    [TestCase(0L, "0 B")]
    [TestCase(1023L, "1023 B")]
    [TestCase(1536L, "1.5 KiB")]
    [TestCase(5L * 1024 * 1024, "5.0 MiB")]
    [TestCase(3L * 1024 * 1024 * 1024, "3.00 GiB")]
    public void Sizes_are_printed_in_binary_units_whatever_the_runner_locale(long bytes, string printed)
    {
        // A German-style runner (decimal comma); built by hand since this host may lack ICU cultures.
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        comma.NumberFormat.NumberGroupSeparator = ".";
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = comma;
        try
        {
            Assert.That(CopyPlan.Size(bytes), Is.EqualTo(printed));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Test]
    public void An_up_to_date_plan_says_so_in_one_line()
    {
        var manifest = Manifest.Parse("""{"schemaVersion":2,"manifests":[]}"""u8.ToArray(), null, "t");
        var destination = ImageReference.Parse("127.0.0.1:5000/prod/app:v1");
        var plan = new CopyPlan("127.0.0.1:5000/dev/app", destination, manifest, [], [],
            new TagMove("v1", manifest.Digest, manifest.Digest), UpToDate: true);

        Assert.That(plan.Describe(), Is.EqualTo(new[] { $"127.0.0.1:5000/prod/app:v1 already points at {manifest.Digest}: nothing to write" }));
        Assert.That(plan.Tag.IsNoop, Is.True);
        Assert.That(CopyPlan.Short(manifest.Digest), Is.EqualTo("sha256:" + manifest.Digest.Encoded[..12]));
    }
}
