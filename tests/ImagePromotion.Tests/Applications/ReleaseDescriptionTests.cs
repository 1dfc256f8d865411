using ImagePromotion.Pipeline.Steps;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Applications;

/// <summary>The commit message and pull request of a release: one image reads as it always did, several are listed, nothing renders as markup.</summary>
public sealed class ReleaseDescriptionTests
{
    private static readonly Digest Web = Digest.Sha256("web"u8);
    private static readonly Digest Worker = Digest.Sha256("worker"u8);

    [Test]
    public void One_image_keeps_the_single_image_title_and_several_name_each_image()
    {
        var one = new ReleaseDescription("sample-app", "production", "staging", [("sample-app", "r/a:staging", $"r/a:production@{Web}", Web)], ["d.yaml"]);
        Assert.That(one.Title, Is.EqualTo($"Promote sample-app to production (sha256:{Web.Encoded[..12]})"));
        var two = new ReleaseDescription("shop", "production-eu", "staging",
            [("web", "r/web:staging", $"r/web:production@{Web}", Web), ("worker", "r/worker:staging", $"r/worker:production@{Worker}", Worker)], ["d.yaml"]);
        Assert.That(two.Title, Is.EqualTo($"Promote shop to production-eu (web sha256:{Web.Encoded[..12]}, worker sha256:{Worker.Encoded[..12]})"));
        Assert.That(two.CommitMessage, Does.Contain($"worker Target image: r/worker:production@{Worker}"));
    }

    [Test]
    public void Untrusted_values_never_render_as_links_or_markup_in_the_pull_request()
    {
        var description = new ReleaseDescription("shop", "prod](https://evil.example)", null,
            [("web", "r/web:[x](https://evil.example)", $"r/web:production@{Web}", Web)], ["apps/`rm`.yaml"])
        { TriggeredBy = "@[mallory](https://evil.example)" };
        var body = description.Body;
        Assert.That(body, Does.Contain(@"**prod\]\(https://evil.example\)**"), "an environment name is escaped text");
        Assert.That(body, Does.Contain("| `r/web:[x](https://evil.example)` |"), "a reference stays inside a code span");
        Assert.That(body, Does.Contain(@"Triggered by @\[mallory\]\(https://evil.example\)"));
        Assert.That(body, Does.Contain("- ``apps/`rm`.yaml``"), "a backtick cannot end the code span early");
    }
}
