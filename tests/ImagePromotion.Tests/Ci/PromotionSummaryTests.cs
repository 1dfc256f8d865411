using ImagePromotion.Ci;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

[TestFixture]
public sealed class PromotionSummaryTests
{
    private static readonly string Digest = "sha256:" + new string('c', 64);

    [Test]
    public void Digest_table_gates_table_and_pull_request_link()
    {
        var markdown = new PromotionSummary("Promote messenger to production")
            .WithRun(new ImagePromotion.Ci.BuildIdentity("octocat"), "https://github.com/acme/messenger/actions/runs/5")
            .AddDigest("staging", "registry.example.com/messenger:staging", Digest)
            .AddDigest("production", "registry.example.com/messenger:production", Digest)
            .AddGate("vulnerability-scan", "passed", "0 critical, 0 high")
            .AddGate("soak-time", "failed", "staging for 10m | needs 1h\nwait")
            .WithPullRequest("https://github.com/acme/gitops/pull/12")
            .ToMarkdown();

        var lines = markdown.Split('\n');
        Assert.That(lines[0], Is.EqualTo("## Promote messenger to production"));
        Assert.That(markdown, Does.Contain("Run by octocat · [run](https://github.com/acme/messenger/actions/runs/5)"));
        Assert.That(lines, Does.Contain("| environment | reference | digest |"));
        Assert.That(lines, Does.Contain($"| production | `registry.example.com/messenger:production` | `{Digest}` |"));
        Assert.That(lines, Does.Contain("| gate | result | reason |"));
        Assert.That(lines, Does.Contain("| vulnerability-scan | ✅ passed | 0 critical, 0 high |"));
        Assert.That(lines, Does.Contain("| soak-time | ❌ failed | staging for 10m \\| needs 1h wait |"), "pipes are escaped and line breaks cannot split a row");
        Assert.That(markdown, Does.Contain("Pull request: [https://github.com/acme/gitops/pull/12](https://github.com/acme/gitops/pull/12)"));
    }

    [Test]
    public void Tables_are_left_out_when_empty()
    {
        var markdown = new PromotionSummary("Dry run").AddNote("nothing copied").ToMarkdown();
        Assert.That(markdown, Does.Not.Contain("| gate"));
        Assert.That(markdown, Does.Not.Contain("| environment"));
        Assert.That(markdown, Does.Not.Contain("Pull request"));
        Assert.That(markdown, Does.Contain("nothing copied"));
    }

    [Test]
    public void Every_table_row_has_the_header_cell_count()
    {
        var markdown = new PromotionSummary("t").AddGate("a|b", "odd result", "").AddDigest("dev", "r", "d").ToMarkdown();
        foreach (var row in markdown.Split('\n').Where(l => l.StartsWith('|')))
        {
            var cells = System.Text.RegularExpressions.Regex.Split(row.Trim('|'), @"(?<!\\)\|");
            Assert.That(cells, Has.Length.EqualTo(3), row);
        }
    }
}
