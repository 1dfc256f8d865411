using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Tests.Infrastructure;
using ImagePromotion.Tests.Reliability;

namespace ImagePromotion.Tests.Evidence;

/// <summary>
/// The pipeline through the real Cake host into a production registry whose tags are immutable (our proxy answering
/// 400 TAG_INVALID in front of distribution 2.8, no referrers API): PromoteStaging then PromoteProduction succeed, the
/// evidence and the signed promotion record are found, and the re-run of the finished promotion writes nothing.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ImmutableTagsPipelineTests
{
    private RegistryServer _dev = null!;
    private RegistryServer _prod = null!;
    private FaultProxy _immutable = null!;
    private CakeRunner _cake = null!;
    private string _promotionKey = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _dev = await RegistryServer.StartAsync();
        _prod = await RegistryServer.StartAsync();
        _immutable = await FaultProxy.StartAsync(_prod);
        _immutable.Inject("PUT", FaultProxy.TagManifestPath, FaultAction.ImmutableTag(), FaultProxy.Always);
        var work = Directory.CreateTempSubdirectory("immutable-pipeline-").FullName;
        var (pair, _) = KeyPairs.Ensure(Path.Combine(work, "keys"), KeyRole.Promotion);
        _promotionKey = pair.PublicKeyPath;
        var config = Path.Combine(work, "promotion.yaml");
        await File.WriteAllTextAsync(config, $"""
            service: compat-app
            registries:
              dev: {"{"} host: {_dev.Host}, insecure: true {"}"}
              prod: {"{"} host: {_immutable.Host}, insecure: true {"}"}
            environments:
              dev: {"{"} registry: dev, repository: team/app, tag: "git-{"{commit}"}", tagMayMove: false {"}"}
              staging: {"{"} registry: dev, repository: team/app, tag: staging {"}"}
              production: {"{"} registry: prod, repository: team/app, tag: production {"}"}
            """);
        _cake = new CakeRunner(work, config);
        _cake.Environment["PROMOTION_SIGNING_KEY_PROMOTION_FILE"] = pair.PrivateKeyPath;
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _immutable.DisposeAsync();
        await _dev.DisposeAsync();
        await _prod.DisposeAsync();
        try { Directory.Delete(_cake.WorkDirectory, recursive: true); } catch (IOException) { }
    }

    [Test]
    public async Task Production_promotion_succeeds_finds_its_evidence_and_its_rerun_writes_nothing()
    {
        var image = await TestImages.PushRandomImageAsync(_dev, "team/app", "git-c0ffee1");
        // As the CI pipelines run it: the pushed image named, so BuildOnce and PushDev do nothing.
        var staging = _cake.Execute("--target=PromoteStaging", "--commit=c0ffee1", $"--image={_dev.Host}/team/app@{image.Digest}");
        Assert.That(staging.ExitCode, Is.Zero, staging.ToString());

        var production = _cake.Execute("--target=PromoteProduction", "--commit=c0ffee1");
        Assert.That(production.ExitCode, Is.Zero, production.ToString());
        using var raw = _prod.CreateClient();
        Assert.That(await raw.GetManifestDigestAsync("team/app", "production"), Is.EqualTo(image.Digest));
        var refused = _immutable.Requests.Where(r => r.Method == "PUT" && r.Status == 400).Select(r => r.PathAndQuery).ToArray();
        Assert.That(refused, Does.Contain($"/v2/team/app/manifests/sha256-{image.Digest.Encoded}"), "the registry refused to rewrite the fallback tag");
        Assert.That(await raw.ListTagsAsync("team/app"), Does.Contain($"sha256-{image.Digest.Encoded}.referrers.1"));

        _immutable.ResetRequests();
        var rerun = _cake.Execute("--target=PromoteProduction", "--commit=c0ffee1");
        Assert.That(rerun.ExitCode, Is.Zero, rerun.ToString());
        Assert.That(_immutable.Requests.Where(r => r.Method is "PUT" or "POST" or "PATCH" or "DELETE").Select(r => $"{r.Method} {r.PathAndQuery}"), Is.Empty,
            "the re-run of a finished promotion writes nothing");

        var evidence = _cake.Execute("--target=Evidence", $"--image={_immutable.Host}/team/app:production", $"--trusted-key={_promotionKey}");
        Assert.That(evidence.ExitCode, Is.Zero, evidence.ToString());
        var trustedRecord = evidence.Output.Split('\n').Where(l => l.StartsWith("trusted ", StringComparison.Ordinal) && l.Contains("promotion record")).ToArray();
        // The staging record travelled with the digest; the production record was written here, past the immutable tag.
        Assert.That(trustedRecord, Has.Length.EqualTo(2), evidence.Output);
        Assert.That(trustedRecord, Has.One.Contains("\"promotion\" \"staging\" -> \"production\" \"promoted\""));
        // PromoteStaging given the image runs no PushDev (issue 15: a promotion never builds or pushes), so the image pushed
        // by the test has no build provenance here; PushDev's own provenance is the business of the runs that push.
        Assert.That(evidence.Output, Does.Not.Contain("build provenance"), "no PushDev ran, so none was written");
    }
}
