using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.EndToEnd;

/// <summary>
/// The README's multi-image sandbox as a user runs it (<c>./build.sh --config=examples/shop/promotion.yaml</c>, here
/// with free ports and a sandbox of its own): web and worker built once, staged, promoted into both production
/// regions in one PromoteProduction, one GitOps commit per region with both images, one release tag on both.
/// </summary>
[TestFixture, NonParallelizable, Order(1001)]
public sealed class ShopSandboxTests
{
    private BuildScript _script = null!;

    [OneTimeSetUp]
    public void Start() => _script = new BuildScript(shop: true);

    [OneTimeTearDown]
    public void Stop() => _script.Dispose();

    [Test, Order(1)]
    public void The_whole_pipeline_moves_both_images_into_both_regions_with_one_release_tag()
    {
        var run = _script.Execute("--target=Sandbox");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);

        var rows = Regex.Matches(run.Output, @"^shop\s+(\S+)\s+(web|worker)\s+(\S+)\s+(sha256:[0-9a-f]{64})", RegexOptions.Multiline)
            .Select(m => (Environment: m.Groups[1].Value, Image: m.Groups[2].Value, Reference: m.Groups[3].Value, Digest: m.Groups[4].Value)).ToArray();
        Assert.That(rows.Select(r => (r.Environment, r.Image)), Is.EqualTo(new[]
        {
            ("dev", "web"), ("dev", "worker"), ("staging", "web"), ("staging", "worker"),
            ("production-eu", "web"), ("production-eu", "worker"), ("production-us", "web"), ("production-us", "worker"),
            ("release:production-eu", "web"), ("release:production-eu", "worker"), ("release:production-us", "web"), ("release:production-us", "worker"),
        }), run.Output);
        foreach (var image in new[] { "web", "worker" })
            Assert.That(rows.Where(r => r.Image == image).Select(r => r.Digest).Distinct().Count(), Is.EqualTo(1), $"{image}: one digest everywhere");
        Assert.That(rows.Single(r => r.Image == "web" && r.Environment == "production-us").Reference, Is.EqualTo($"127.0.0.1:{_script.UsPort}/shop/web:production"));
        var releaseTags = Regex.Matches(run.Output, @":(release-\d{8}-\d{6})\s", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Distinct().ToArray();
        Assert.That(releaseTags, Has.Length.EqualTo(1), "the same release tag on every image in both regions");
        Assert.That(run.Output, Does.Contain("shop/web: one digest in every environment").And.Contain("shop/worker: one digest in every environment"));
    }

    [Test, Order(2)]
    public void Each_region_gets_one_commit_holding_both_images()
    {
        foreach (var region in new[] { "production-eu", "production-us" })
        {
            var branches = _script.GitIn("shop-gitops.git", "branch", "--list", $"promote/{region}/*", "--format=%(refname:short)").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(branches, Has.Length.EqualTo(1), region);
            Assert.That(_script.GitIn("shop-gitops.git", "rev-list", "--count", $"main..{branches[0]}").Trim(), Is.EqualTo("1"), $"{region}: one commit");
            var diff = _script.GitIn("shop-gitops.git", "diff", "--unified=0", "main", branches[0]);
            var added = diff.Split('\n').Where(l => l.StartsWith('+') && !l.StartsWith("+++")).ToArray();
            Assert.That(added, Has.Length.EqualTo(2), diff);
            Assert.That(added[0], Does.Match(@"^\+          image: 127\.0\.0\.1:\d+/shop/web:production@sha256:[0-9a-f]{64}  # set by the promotion pipeline$"));
            Assert.That(added[1], Does.Match(@"^\+          image: 127\.0\.0\.1:\d+/shop/worker:production@sha256:[0-9a-f]{64}  # set by the promotion pipeline$"));
        }
    }

    [Test, Order(3)]
    public void A_rerun_writes_nothing_and_a_dry_run_says_so()
    {
        var run = _script.Execute("--target=Sandbox");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(Regex.Matches(run.Output, "not building again").Count, Is.EqualTo(2));
        Assert.That(Regex.Matches(run.Output, "already points at").Count, Is.GreaterThanOrEqualTo(6), "dev, staging and both regions, both images");
        Assert.That(Regex.Matches(run.Output, "no new release tag").Count, Is.EqualTo(4));

        var dry = _script.Execute("--target=PromoteProduction", "--dryrun");
        Assert.That(dry.ExitCode, Is.EqualTo(0), dry.Output);
        Assert.That(Regex.Matches(dry.Output, @"gitops: promote/production-(eu|us)/shop-[0-9a-f]{12} of \S+ already holds this change: nothing to push").Count, Is.EqualTo(2),
            "the dry run says what the real run does: nothing to push");
    }

    [Test, Order(4)]
    public void One_application_and_one_region_can_be_named()
    {
        var run = _script.Execute("--target=PromoteProduction", "--application=shop", "--environment=production-us", "--dryrun");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(run.Output, Does.Contain("plan: promote into production-us").And.Not.Contain("-> production-eu"));
        var wrong = _script.Execute("--target=PromoteProduction", "--application=billing", "--dryrun");
        Assert.That(wrong.ExitCode, Is.Not.EqualTo(0));
        Assert.That(wrong.ErrorLines.Single(), Does.Contain("no application named 'billing' (have: shop)"));
    }
}
