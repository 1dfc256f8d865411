using System.Net;
using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.EndToEnd;

/// <summary>
/// The README's first command as a user runs it: ./build.sh against a sandbox of real registries, then
/// the error paths a user meets. One sandbox for the class; the tests run in order.
/// </summary>
[TestFixture, NonParallelizable, Order(1000)]
public sealed class BuildScriptTests
{
    private BuildScript _script = null!;

    [OneTimeSetUp]
    public void Start() => _script = new BuildScript();

    [OneTimeTearDown]
    public void Stop() => _script.Dispose();

    [Test, Order(1)]
    public void Sandbox_runs_end_to_end_with_one_digest_everywhere()
    {
        var run = _script.Execute("--target=Sandbox");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        var rows = Regex.Matches(run.Output, @"^(dev|staging|production|release)\s+(\S+)\s+(sha256:[0-9a-f]{12})$", RegexOptions.Multiline);
        Assert.That(rows.Select(m => m.Groups[1].Value), Is.EqualTo(new[] { "dev", "staging", "production", "release" }));
        Assert.That(rows.Select(m => m.Groups[3].Value).Distinct().Count(), Is.EqualTo(1), "the same digest in every environment");
        Assert.That(run.Output, Does.Contain("one digest in every environment"));
    }

    [Test, Order(2)]
    public void Sandbox_ends_with_a_commit_on_a_promotion_branch_whose_diff_is_the_image_line()
    {
        var branches = _script.Git("branch", "--list", "promote/*", "--format=%(refname:short)").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(branches, Has.Length.EqualTo(1), "one promotion branch");
        Assert.That(branches[0], Does.Match("^promote/production/sample-app-[0-9a-f]{12}$"));
        var diff = _script.Git("diff", "--unified=0", "main", branches[0]);
        var changed = diff.Split('\n').Where(l => (l.StartsWith('+') || l.StartsWith('-')) && !l.StartsWith("+++") && !l.StartsWith("---")).ToArray();
        Assert.That(changed, Has.Length.EqualTo(2), diff);
        Assert.That(changed[0], Is.EqualTo("-          image: 127.0.0.1:5702/team/sample-app:production  # set by the promotion pipeline"));
        Assert.That(changed[1], Does.Match(@"^\+          image: 127\.0\.0\.1:\d+/team/sample-app:production@sha256:[0-9a-f]{64}  # set by the promotion pipeline$"));
        Assert.That(_script.Git("log", "-1", "--format=%s", branches[0]).Trim(), Does.StartWith("Promote sample-app to production (sha256:"));
    }

    [Test, Order(3)]
    public void A_rerun_writes_nothing_and_says_so()
    {
        var run = _script.Execute("--target=Sandbox");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(run.Output, Does.Contain("not building again"));
        Assert.That(run.Output, Does.Contain("nothing to push"));
        Assert.That(Regex.Matches(run.Output, "already points at").Count, Is.GreaterThanOrEqualTo(2), "staging and production are already there");
        Assert.That(run.Output, Does.Contain("no new release tag"));
        Assert.That(run.Output, Does.Contain("nothing pushed").Or.Contain("already holds"), "the GitOps branch already holds the digest");
        Assert.That(_script.Git("branch", "--list", "promote/*").Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1));
    }

    [Test, Order(4)]
    public async Task Dry_run_prints_the_plan_and_writes_nothing()
    {
        var run = _script.Execute("--target=PromoteProduction", "--dryrun", "--set", "environments.production.tag=dry-run-tag");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(run.Output, Does.Contain("tag dry-run-tag: (new) -> sha256:"));
        Assert.That(run.Output, Does.Contain("dry run: would commit on promote/production/sample-app-"), "the GitOps diff is part of the plan");
        Assert.That(run.Output, Does.Contain("+          image: 127.0.0.1:"));
        Assert.That(run.Output, Does.Contain("nothing written"));
        Assert.That(await _script.HeadAsync(_script.ProdPort, "team/sample-app", "dry-run-tag"), Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test, Order(5)]
    public void Unknown_argument_is_one_line_and_non_zero()
    {
        var run = _script.Execute("--target=PromoteStaging", "--frobnicate=yes");
        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(run.ErrorLines[0], Does.Contain("unknown argument '--frobnicate'"));
        Assert.That(run.Output, Does.Not.Contain("   at "), "no stack trace at normal verbosity");
    }

    [Test, Order(6)]
    public async Task Missing_source_tag_is_one_line_and_writes_nothing()
    {
        var run = _script.Execute("--target=PromoteProduction", "--set", "environments.staging.tag=no-such-tag",
            "--set", "environments.production.tag=must-not-exist");
        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(run.ErrorLines[0], Does.Contain("no-such-tag does not exist"));
        Assert.That(await _script.HeadAsync(_script.ProdPort, "team/sample-app", "must-not-exist"), Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test, Order(7)]
    public void Unreachable_registry_is_one_line_and_non_zero()
    {
        var run = _script.Execute("--target=PromoteProduction", "--set", "registries.prod.host=127.0.0.1:9");
        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(run.ErrorLines[0], Does.Contain("cannot reach registry 127.0.0.1:9"));
    }

    [Test, Order(8)]
    public void Immutable_tag_is_not_moved()
    {
        // The dev tag is immutable: pointing git-<commit> at another digest must be refused.
        var run = _script.Execute("--target=Copy", $"--from=127.0.0.1:{_script.ProdPort}/team/sample-app:production",
            $"--to=127.0.0.1:{_script.DevPort}/team/other:fixed");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        var refused = _script.Execute("--target=Copy", "--no-tag-move", $"--from=127.0.0.1:{_script.DevPort}/team/other:fixed",
            $"--to=127.0.0.1:{_script.DevPort}/team/sample-app:staging");
        Assert.That(refused.Output, Does.Contain("already points at").Or.Contain("nothing written"));
    }

    [Test, Order(9)]
    public void Copy_result_file_reports_mounts_bytes_and_requests()
    {
        var resultFile = Path.Combine(_script.WorkDirectory, "copy.json");
        var run = _script.Execute("--target=Copy", $"--from=127.0.0.1:{_script.DevPort}/team/sample-app:staging",
            $"--to=127.0.0.1:{_script.DevPort}/mirror/sample-app:copied", $"--result-file={resultFile}");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        var result = ImagePromotion.Copy.CopyResult.FromJson(File.ReadAllText(resultFile));
        Assert.That(result.BlobsMounted, Is.EqualTo(2), "config and layer mounted from the other repository");
        Assert.That(result.BytesUploaded, Is.EqualTo(0));
        Assert.That(result.DestinationDigest, Is.EqualTo(result.SourceDigest));
        Assert.That(result.Requests[$"127.0.0.1:{_script.DevPort}"], Is.LessThanOrEqualTo(6));
    }
}
