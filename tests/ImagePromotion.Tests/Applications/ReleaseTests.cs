using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Execution;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Tests.GitOps.Git;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Applications;

/// <summary>
/// A release is one unit: both images of the application, into both production regions of the group, with one
/// GitOps commit per region holding both images, all or nothing. Real registries, a real git remote.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ReleaseTests
{
    private ShopSandbox _shop = null!;

    [OneTimeSetUp]
    public async Task Start() => _shop = await ShopSandbox.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _shop.DisposeAsync();

    [TearDown]
    public void ClearFaults() => _shop.UsProxy.ClearFaults();

    private static Task<PhaseResult> PromoteProductionAsync(PromotionSession session) =>
        new PromotionPipeline(session).PromoteAsync(new ReleaseSelection(), "production", null, null, null, CancellationToken.None);

    [Test]
    public async Task PromoteProduction_moves_both_images_into_both_regions_with_one_commit_per_region_holding_both()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var digests = await _shop.StageAsync(prefix, yaml);

        using var session = _shop.Session(yaml);
        var result = await PromoteProductionAsync(session);

        Assert.That(result.Outcome!.Releases.Select(r => (r.Plan.To, r.Record.Outcome)), Is.EqualTo(new[] { ("production-eu", "promoted"), ("production-us", "promoted") }));
        foreach (var region in ShopSandbox.Regions)
        {
            Assert.That(await _shop.TagsAsync(prefix, region), Is.EqualTo(digests.ToDictionary(kv => kv.Key, kv => (Digest?)kv.Value)), region);
            var release = result.Outcome.Releases.Single(r => r.Plan.To == region);
            var branch = release.GitOps!.Branch;
            Assert.That(branch, Does.StartWith($"promote/{region}/shop-"));
            Assert.That(_shop.GitOps.Log($"main..{branch}", "%s"), Is.EqualTo($"Promote shop to {region} (web {Short(digests["web"])}, worker {Short(digests["worker"])})"), "one commit");
            var diff = TestGit.Run(_shop.GitOps.BarePath, "diff", "--unified=0", "main", branch);
            var added = diff.Split('\n').Where(l => l.StartsWith('+') && !l.StartsWith("+++")).ToArray();
            Assert.That(added, Is.EqualTo(new[]
            {
                $"+          image: {(region == "production-eu" ? _shop.Eu.Host : _shop.UsProxy.Host)}/{prefix}/web:production@{digests["web"]}  # set by the promotion pipeline",
                $"+          image: {(region == "production-eu" ? _shop.Eu.Host : _shop.UsProxy.Host)}/{prefix}/worker:production@{digests["worker"]}  # set by the promotion pipeline",
            }), diff);
            Assert.That(release.Record.Images.Select(i => (i.Name, i.Digest)), Is.EqualTo(ShopSandbox.Images.Select(i => (i, digests[i].ToString()))), "one record lists every image");
            // Attached to each image as a record about that image's digest, so it verifies there (and staging gates can read it).
            var host = region == "production-eu" ? _shop.Eu.Host : _shop.UsProxy.Host;
            var onWorker = await new PromotionRecorder(session).ReadAsync(ImageReference.Parse($"{host}/{prefix}/worker@{digests["worker"]}"), CancellationToken.None);
            Assert.That(onWorker.Single(r => r.To == region).Digest, Is.EqualTo(digests["worker"].ToString()));
        }
    }

    [Test]
    public async Task The_release_tag_is_the_same_on_every_image_and_region_and_one_record_lists_every_image()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var digests = await _shop.StageAsync(prefix, yaml);
        using var session = _shop.Session(yaml);
        (await PromoteProductionAsync(session)).ThrowIfRefused();

        var now = new DateTimeOffset(2026, 11, 30, 9, 15, 0, TimeSpan.Zero);
        var tagged = await new PromotionPipeline(session).ReleaseTagAsync(new ReleaseSelection(), null, now, CancellationToken.None);

        Assert.That(tagged.Plan.Releases.Select(r => r.ReleaseTag).Distinct(), Is.EqualTo(new[] { "release-20261130-091500" }));
        foreach (var region in ShopSandbox.Regions)
            Assert.That(await _shop.TagsAsync(prefix, region, "release-20261130-091500"), Is.EqualTo(digests.ToDictionary(kv => kv.Key, kv => (Digest?)kv.Value)), region);
        var record = tagged.Outcome!.Releases[0].Record;
        Assert.That(record.Kind, Is.EqualTo("release"));
        Assert.That(record.Images.Select(i => i.Reference), Is.EqualTo(new[] { $"{_shop.Eu.Host}/{prefix}/web:release-20261130-091500", $"{_shop.Eu.Host}/{prefix}/worker:release-20261130-091500" }));

        var again = await new PromotionPipeline(session).ReleaseTagAsync(new ReleaseSelection(), null, now.AddHours(1), CancellationToken.None);
        Assert.That(again.Plan.Releases.All(r => r.UpToDate && r.ReleaseTag == "release-20261130-091500"), Is.True, "a released set of digests gets no second tag");
    }

    [Test]
    public async Task A_release_tag_for_a_digest_production_no_longer_runs_is_refused_and_the_one_it_runs_is_tagged()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var digests = await _shop.StageAsync(prefix, yaml);
        using var session = _shop.Session(yaml);
        (await PromoteProductionAsync(session)).ThrowIfRefused();
        var now = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

        // What a CI stage passes: the web image it promoted. Production's web runs digests["web"], not the worker's digest.
        var stale = new ReleaseSelection { Digest = digests["worker"], Image = ImageReference.Parse($"{_shop.Eu.Host}/{prefix}/web@{digests["worker"]}") };
        var e = Assert.ThrowsAsync<PromotionException>(() => new PromotionPipeline(session).ReleaseTagAsync(stale, null, now, CancellationToken.None));
        Assert.That(e!.Message, Does.Contain($"{_shop.Eu.Host}/{prefix}/web:production points at {digests["web"]}, not at {digests["worker"]} (the digest given)"));
        foreach (var region in ShopSandbox.Regions)
            Assert.That((await _shop.TagsAsync(prefix, region, "release-20261130-100000")).Values, Is.All.Null, $"{region}: nothing tagged");

        var current = new ReleaseSelection { Digest = digests["web"], Image = ImageReference.Parse($"{_shop.Eu.Host}/{prefix}/web@{digests["web"]}") };
        var tagged = await new PromotionPipeline(session).ReleaseTagAsync(current, null, now, CancellationToken.None);
        Assert.That(tagged.Plan.Releases.Select(r => r.ReleaseTag).Distinct(), Is.EqualTo(new[] { "release-20261130-100000" }));
        Assert.That(await _shop.TagsAsync(prefix, "production-eu", "release-20261130-100000"), Is.EqualTo(digests.ToDictionary(kv => kv.Key, kv => (Digest?)kv.Value)));
    }

    [Test]
    public async Task One_image_that_cannot_be_copied_leaves_every_production_tag_as_it_was()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var before = await ReleaseAlreadyThereAsync(prefix);
        await _shop.StageAsync(prefix, yaml);
        var baseBefore = _shop.GitOps.Head("main");
        var branchesBefore = Branches();
        // The US registry refuses the worker's blob uploads: its image cannot be copied.
        _shop.UsProxy.Inject(null, $"^/v2/{prefix}/worker/blobs/uploads", FaultAction.Status(403), FaultProxy.Always);

        using var session = _shop.Session(yaml);
        var ex = Assert.CatchAsync<PromotionException>(() => PromoteProductionAsync(session))!;

        Assert.That(ex.Message, Does.Contain($"{prefix}/worker"));
        foreach (var region in ShopSandbox.Regions)
            Assert.That(await _shop.TagsAsync(prefix, region), Is.EqualTo(before[region]), $"{region}: every tag as it was");
        Assert.That(_shop.GitOps.Head("main"), Is.EqualTo(baseBefore), "the GitOps base is untouched");
        Assert.That(Branches(), Is.EqualTo(branchesBefore), "no GitOps branch pushed for this release");
    }

    [Test]
    public async Task A_tag_move_that_fails_puts_back_the_tags_already_moved_and_says_which()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var before = await ReleaseAlreadyThereAsync(prefix);
        await _shop.StageAsync(prefix, yaml);
        // Copies by digest go through; the US worker's tag (the last of the four moves) is refused.
        _shop.UsProxy.Inject("PUT", $"^/v2/{prefix}/worker/manifests/production$", FaultAction.Status(403), FaultProxy.Always);

        using var session = _shop.Session(yaml);
        var ex = Assert.CatchAsync<PromotionException>(() => PromoteProductionAsync(session))!;

        Assert.That(ex.Message, Does.StartWith($"moving {_shop.UsProxy.Host}/{prefix}/worker:production to sha256:"));
        foreach (var (host, image) in new[] { (_shop.UsProxy.Host, "web"), (_shop.Eu.Host, "worker"), (_shop.Eu.Host, "web") })
            Assert.That(ex.Message, Does.Contain($"{host}/{prefix}/{image}:production put back to "), image);
        foreach (var region in ShopSandbox.Regions)
            Assert.That(await _shop.TagsAsync(prefix, region), Is.EqualTo(before[region]), $"{region}: every tag put back");
    }

    [Test]
    public async Task A_tag_that_moved_after_planning_is_refused_by_name_and_nothing_is_written()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        await _shop.StageAsync(prefix, yaml);
        using var session = _shop.Session(yaml);
        var plan = await new ReleasePlanner(session).PlanPromotionAsync(new ReleaseSelection(), session.Config.Targets("production"), null, null, CancellationToken.None);
        // Someone else moves the EU web tag between the plan and its execution.
        var rival = await Gates.Pipeline.PipelineSandbox.PushImageAsync(_shop.Eu, $"{prefix}/web", "production", new Scanning.LayerBuilder().File("rival", "1"));

        var ex = Assert.ThrowsAsync<PromotionConflictException>(() => new PlanExecutor(session).ExecuteAsync(plan, CancellationToken.None))!;

        Assert.That(ex.Message, Does.StartWith($"{_shop.Eu.Host}/{prefix}/web:production moved since the plan was made (planned from (absent), now {rival})"));
        Assert.That(await _shop.TagsAsync(prefix, "production-us"), Is.EqualTo(new Dictionary<string, Digest?> { ["web"] = null, ["worker"] = null }), "nothing written anywhere");
        Assert.That((await _shop.TagsAsync(prefix, "production-eu"))["worker"], Is.Null);
    }

    [Test]
    public async Task Each_region_is_judged_by_its_own_gates_a_locked_region_is_refused_and_the_other_promoted()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix).Replace("manifests: [apps/shop/production-us/deployment.yaml], container: \"{image}\" }",
            "manifests: [apps/shop/production-us/deployment.yaml], container: \"{image}\" }\n    gates: { lock: { locked: true, reason: \"us datacenter move\" } }");
        var digests = await _shop.StageAsync(prefix, yaml);
        using var session = _shop.Session(yaml);

        var result = await PromoteProductionAsync(session);

        Assert.That(result.Outcome!.Releases.Select(r => (r.Plan.To, r.Record.Outcome)), Is.EqualTo(new[] { ("production-eu", "promoted"), ("production-us", "refused") }));
        Assert.That((await _shop.TagsAsync(prefix, "production-eu"))["worker"], Is.EqualTo(digests["worker"]));
        Assert.That(await _shop.TagsAsync(prefix, "production-us"), Is.EqualTo(new Dictionary<string, Digest?> { ["web"] = null, ["worker"] = null }));
        var ex = Assert.Throws<PromotionException>(() => result.ThrowIfRefused())!;
        Assert.That(ex.Message, Does.Contain("to production-us refused by gate(s): environment-lock (production-us is locked: us datacenter move)"));
    }

    [Test]
    public async Task One_environment_of_the_group_is_promoted_alone_when_named()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var digests = await _shop.StageAsync(prefix, yaml);
        using var session = _shop.Session(yaml);

        var result = await new PromotionPipeline(session).PromoteAsync(new ReleaseSelection(), "production", "production-us", null, null, CancellationToken.None);

        Assert.That(result.Plan.Releases.Select(r => r.To), Is.EqualTo(new[] { "production-us" }));
        Assert.That((await _shop.TagsAsync(prefix, "production-us"))["web"], Is.EqualTo(digests["web"]));
        Assert.That((await _shop.TagsAsync(prefix, "production-eu"))["web"], Is.Null);
        var ex = Assert.ThrowsAsync<PromotionException>(() => new PromotionPipeline(session).PromoteAsync(new ReleaseSelection(), "production", "staging", null, null, CancellationToken.None))!;
        Assert.That(ex.Message, Does.StartWith("--environment=staging is not among the environments this target promotes into (production-eu, production-us)"));
    }

    [Test]
    public async Task Rollback_takes_the_whole_release_back_in_every_region()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var first = await _shop.StageAsync(prefix, yaml);
        using (var s = _shop.Session(yaml))
        {
            (await PromoteProductionAsync(s)).ThrowIfRefused();
            await new PromotionPipeline(s).ReleaseTagAsync(new ReleaseSelection(), null, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        }
        await _shop.StageAsync(prefix, yaml.Replace("tagMayMove: false", "tagMayMove: true"));
        using (var s = _shop.Session(yaml))
        {
            (await PromoteProductionAsync(s)).ThrowIfRefused();
            await new PromotionPipeline(s).ReleaseTagAsync(new ReleaseSelection(), null, new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        }

        using var session = _shop.Session(yaml, identity: "oncall");
        var rollback = await new PromotionPipeline(session).RollbackAsync(new ReleaseSelection(), null, null, previous: true, null, CancellationToken.None);

        Assert.That(rollback.Plan.Releases.Select(r => r.RollbackTo).Distinct(), Is.EqualTo(new[] { "release-20261101-000000" }));
        foreach (var region in ShopSandbox.Regions)
            Assert.That(await _shop.TagsAsync(prefix, region), Is.EqualTo(first.ToDictionary(kv => kv.Key, kv => (Digest?)kv.Value)), region);
        Assert.That(rollback.Outcome!.Releases.All(r => r.Record.Kind == "rollback" && r.Record.Images.Count == 2), Is.True);
    }

    [Test]
    public async Task A_dry_run_plans_production_on_what_the_planned_staging_promotion_would_leave()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var old = await _shop.StageAsync(prefix, yaml);
        // A new build in dev under another tag, as the next commit's would be.
        var fresh = new Dictionary<string, Digest>();
        foreach (var image in ShopSandbox.Images)
            fresh[image] = await Gates.Pipeline.PipelineSandbox.PushImageAsync(_shop.Dev, $"{prefix}/{image}", "next", new Scanning.LayerBuilder().File("next", image));
        using var session = _shop.Session(yaml.Replace("tag: \"git-{commit}\"", "tag: next"), dryRun: true);
        var pipeline = new PromotionPipeline(session);

        var staging = await pipeline.PromoteAsync(new ReleaseSelection(), "staging", null, null, null, CancellationToken.None);
        var production = await pipeline.PromoteAsync(new ReleaseSelection(), "production", null, null, null, CancellationToken.None);

        Assert.That(staging.Plan.Releases.Single().Images.Select(i => i.Tag.Old), Is.EqualTo(ShopSandbox.Images.Select(i => (Digest?)old[i])));
        foreach (var release in production.Plan.Releases)
            Assert.That(release.Images.Select(i => i.Digest.Value), Is.EqualTo(ShopSandbox.Images.Select(i => (Digest?)fresh[i])),
                $"{release.To}: planned on the digests staging would hold, not on what it holds today");
        using var client = _shop.Dev.CreateClient();
        Assert.That((await client.HeadManifestAsync($"{prefix}/web", "staging"))!.Digest, Is.EqualTo(old["web"]), "a dry run writes nothing");
    }

    [Test]
    public async Task Status_lists_every_application_environment_and_image()
    {
        var prefix = _shop.NewPrefix();
        var yaml = _shop.Yaml(prefix);
        var digests = await _shop.StageAsync(prefix, yaml);
        using var session = _shop.Session(yaml);

        var rows = await new PromotionPipeline(session).StatusAsync(new ReleaseSelection(), CancellationToken.None);

        Assert.That(rows.Select(r => (r.Environment, r.Image)), Is.EqualTo(new[]
        {
            ("dev", "web"), ("dev", "worker"), ("staging", "web"), ("staging", "worker"),
            ("production-eu", "web"), ("production-eu", "worker"), ("production-us", "web"), ("production-us", "worker"),
        }));
        Assert.That(rows.Single(r => r.Environment == "staging" && r.Image == "worker").Digest, Is.EqualTo(digests["worker"].ToString()));
        Assert.That(rows.Where(r => r.Environment.StartsWith("production")).Select(r => r.Digest), Has.All.Null);
        var table = PromotionPipeline.StatusTable(rows);
        Assert.That(table[0], Does.StartWith("environment    image   reference"), "one application: no application column");
    }

    /// <summary>A release already in both regions; returns what each region's tags point at.</summary>
    private async Task<Dictionary<string, Dictionary<string, Digest?>>> ReleaseAlreadyThereAsync(string prefix)
    {
        await _shop.ReleaseAlreadyThereAsync(prefix);
        var before = new Dictionary<string, Dictionary<string, Digest?>>();
        foreach (var region in ShopSandbox.Regions) before[region] = await _shop.TagsAsync(prefix, region);
        return before;
    }

    private string Branches() => TestGit.Run(_shop.GitOps.BarePath, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/");

    private static string Short(Digest d) => $"sha256:{d.Encoded[..12]}";
}
