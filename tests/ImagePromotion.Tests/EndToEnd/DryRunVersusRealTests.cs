using System.Text.Json;

namespace ImagePromotion.Tests.EndToEnd;

/// <summary>
/// Every target run as a dry run, then for real, on the multi-image sandbox (two images, two regions, gates,
/// GitOps): the plan the dry run printed is the plan the real run executed, and the real run did what the plan
/// said (the tags it moved, the blobs it copied, the GitOps commit).
/// </summary>
[TestFixture, NonParallelizable, Order(1002)]
public sealed class DryRunVersusRealTests
{
    private BuildScript _script = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _script = new BuildScript(shop: true);
        var up = _script.Execute("--target=SandboxUp");
        Assert.That(up.ExitCode, Is.EqualTo(0), up.Output);
    }

    [OneTimeTearDown]
    public void Stop() => _script.Dispose();

    private (JsonElement Dry, JsonElement Real) DryThenReal(params string[] arguments)
    {
        var dry = _script.Execute([.. arguments, "--dryrun"]);
        Assert.That(dry.ExitCode, Is.EqualTo(0), dry.Output);
        var planned = _script.Plans();
        var real = _script.Execute(arguments);
        Assert.That(real.ExitCode, Is.EqualTo(0), real.Output);
        return (planned, _script.Plans());
    }

    [TestCase("--target=BuildOnce", TestName = "1 BuildOnce")]
    [TestCase("--target=PushDev", TestName = "2 PushDev")]
    [TestCase("--target=Scan", TestName = "3 Scan")]
    [TestCase("--target=PromoteStaging", TestName = "4 PromoteStaging")]
    [TestCase("--target=PromoteProduction", TestName = "5 PromoteProduction")]
    [TestCase("--target=ReleaseTag", TestName = "6 ReleaseTag")]
    [TestCase("--target=Rollback", TestName = "7 Rollback")]
    [TestCase("--target=Status", TestName = "8 Status")]
    public void The_dry_run_plans_what_the_real_run_does(string target)
    {
        var arguments = target == "--target=Rollback" ? [target, $"--to-release={CurrentRelease()}"] : new[] { target };
        var (dry, real) = DryThenReal(arguments);
        Assert.That(real.GetArrayLength(), Is.EqualTo(dry.GetArrayLength()), "the same phases");
        for (var p = 0; p < dry.GetArrayLength(); p++)
        {
            var planned = dry[p].GetProperty("plan");
            var executed = real[p].GetProperty("plan");
            var phase = planned.GetProperty("operation").GetString();
            Assert.That(executed.GetProperty("operation").GetString(), Is.EqualTo(phase));
            Assert.That(Builds(executed), Is.EqualTo(Builds(planned)), $"{phase}: the same builds");
            var dryReleases = planned.GetProperty("releases").EnumerateArray().ToArray();
            var realReleases = executed.GetProperty("releases").EnumerateArray().ToArray();
            Assert.That(realReleases.Select(Key), Is.EqualTo(dryReleases.Select(Key)), $"{phase}: the same releases");
            for (var r = 0; r < dryReleases.Length; r++) CompareRelease(phase!, dryReleases[r], realReleases[r], real[p].GetProperty("executed")[r]);
        }
    }

    /// <summary>The release tag production runs now (the rollback case goes back to it: a no-op whose plan is still compared).</summary>
    private string CurrentRelease()
    {
        var status = _script.Execute("--target=Status");
        return System.Text.RegularExpressions.Regex.Match(status.Output, @":(release-\d{8}-\d{6})\s").Groups[1].Value;
    }

    private static string Key(JsonElement release) =>
        $"{release.GetProperty("kind").GetString()} {release.GetProperty("application").GetString()} -> {release.GetProperty("to").GetString()}";

    private static string[] Builds(JsonElement plan) =>
        plan.GetProperty("builds").EnumerateArray().Select(b => $"{b.GetProperty("image").GetString()} {b.GetProperty("layoutTag").GetString()}").ToArray();

    private static void CompareRelease(string phase, JsonElement dry, JsonElement real, JsonElement executed)
    {
        var what = $"{phase} {Key(dry)}";
        var moved = executed.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("reference").GetString()!, t => t);
        var copies = executed.GetProperty("copies").EnumerateArray().ToDictionary(c => c.GetProperty("destination").GetString()!.Split('@')[0], c => c);
        var dryImages = dry.GetProperty("images").EnumerateArray().ToArray();
        var realImages = real.GetProperty("images").EnumerateArray().ToArray();
        Assert.That(realImages.Select(i => i.GetProperty("image").GetString()), Is.EqualTo(dryImages.Select(i => i.GetProperty("image").GetString())), what);
        for (var i = 0; i < dryImages.Length; i++)
        {
            var (d, r) = (dryImages[i], realImages[i]);
            var image = $"{what} {d.GetProperty("image").GetString()}";
            var plannedDigest = d.GetProperty("digest").GetProperty("value");
            var digest = r.GetProperty("digest").GetProperty("value").GetString();
            if (plannedDigest.ValueKind == JsonValueKind.String) Assert.That(digest, Is.EqualTo(plannedDigest.GetString()), $"{image}: the planned digest");
            else Assert.That(d.GetProperty("digest").GetProperty("origin").GetString(), Does.Contain("build"), $"{image}: only a build's digest is unknown to a plan");
            var destination = r.GetProperty("destination").GetString()!;
            var releaseTag = phase.StartsWith("release tag", StringComparison.Ordinal);
            if (!releaseTag) Assert.That(destination, Is.EqualTo(d.GetProperty("destination").GetString()), image);
            var old = d.GetProperty("tag").GetProperty("old");
            Assert.That(r.GetProperty("tag").GetProperty("old").ToString(), Is.EqualTo(old.ToString()), $"{image}: the tag's old digest");
            Assert.That(Blobs(r), Is.EqualTo(Blobs(d)), $"{image}: each blob's action");
            // What was done: the planned tag moved from the planned old digest to the planned digest, and the copy did the planned blob actions.
            var upToDate = old.ValueKind == JsonValueKind.String && old.GetString() == digest;
            if (upToDate) Assert.That(moved.ContainsKey(destination), Is.False, $"{image}: up to date, not moved");
            else
            {
                Assert.That(moved[destination].GetProperty("next").GetString(), Is.EqualTo(digest), $"{image}: moved to the planned digest");
                Assert.That(moved[destination].GetProperty("previous").ToString(), Is.EqualTo(old.ToString()), $"{image}: from the planned old digest");
            }
            var blobs = Blobs(d);
            if (blobs.Length > 0)
            {
                var copy = copies[destination.Split(':')[..^1] is var parts ? string.Join(':', parts) : destination];
                Assert.That(copy.GetProperty("blobsCopied").GetInt32(), Is.EqualTo(blobs.Count(b => b.EndsWith(" copy"))), $"{image}: blobs copied");
                Assert.That(copy.GetProperty("blobsMounted").GetInt32(), Is.EqualTo(blobs.Count(b => b.EndsWith(" mount"))), $"{image}: blobs mounted");
            }
        }
        Assert.That(Gates(real), Is.EqualTo(Gates(dry)), $"{what}: the same gates and verdicts");
        if (dry.TryGetProperty("gitOps", out var g) && g.ValueKind == JsonValueKind.Object)
        {
            var rg = real.GetProperty("gitOps");
            foreach (var field in new[] { "action", "branch", "repository", "title" })
                Assert.That(rg.GetProperty(field).ToString(), Is.EqualTo(g.GetProperty(field).ToString()), $"{what}: gitops {field}");
            Assert.That(rg.GetProperty("files").ToString(), Is.EqualTo(g.GetProperty("files").ToString()), $"{what}: gitops files and diffs");
            var done = executed.GetProperty("gitops");
            Assert.That(done.GetProperty("changed").GetBoolean(), Is.EqualTo(g.GetProperty("action").GetString() is "commitToBranch" or "commitToBase"), $"{what}: committed exactly when planned");
        }
    }

    private static string[] Blobs(JsonElement image) =>
        image.GetProperty("blobs").EnumerateArray().Select(b => $"{b.GetProperty("digest").GetString()} {b.GetProperty("action").GetString()}").ToArray();

    private static string[] Gates(JsonElement release) =>
        release.GetProperty("gates").EnumerateArray().Select(g => $"{g.GetProperty("gate").GetString()} {g.GetProperty("image")} {g.GetProperty("passed").GetBoolean()} {g.GetProperty("pending").GetBoolean()}").ToArray();
}
