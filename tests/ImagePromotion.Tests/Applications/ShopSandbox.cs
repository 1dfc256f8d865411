using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Gates.Pipeline;
using ImagePromotion.Tests.GitOps.Git;
using ImagePromotion.Tests.Infrastructure;
using ImagePromotion.Tests.Scanning;

namespace ImagePromotion.Tests.Applications;

/// <summary>
/// An application of two images (web, worker) and two production regions, each its own real registry (the US one
/// behind a <see cref="FaultProxy"/> so a test can make it refuse one image), plus a real GitOps remote holding one
/// deployment per region with both containers.
/// </summary>
internal sealed class ShopSandbox : IAsyncDisposable
{
    public const string Commit = PipelineSandbox.Commit;
    public static readonly string[] Images = ["web", "worker"];
    public static readonly string[] Regions = ["production-eu", "production-us"];

    public RegistryServer Dev { get; private init; } = null!;
    public RegistryServer Eu { get; private init; } = null!;
    public RegistryServer Us { get; private init; } = null!;
    public FaultProxy UsProxy { get; private init; } = null!;
    public BareRemote GitOps { get; } = new();
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("shop-").FullName;
    public MemoryLog Log { get; private set; } = new();
    /// <summary>One key pair per role: sessions sign with all of them and the configuration trusts them, as the sandbox does.</summary>
    public string Keys { get; }
    private int _n;

    private ShopSandbox() => Keys = Tests.Evidence.Signing.RoleKeys.Ensure(Directory);

    public static async Task<ShopSandbox> StartAsync()
    {
        var us = await RegistryServer.StartAsync();
        var sandbox = new ShopSandbox
        {
            Dev = await RegistryServer.StartAsync(), Eu = await RegistryServer.StartAsync(), Us = us, UsProxy = await FaultProxy.StartAsync(us),
        };
        foreach (var region in Regions)
            sandbox.GitOps.PushFromElsewhere("main", $"apps/shop/{region}/deployment.yaml", Deployment(region));
        return sandbox;
    }

    public static string Deployment(string region) => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: shop
        spec:
          template:
            spec:
              containers:
                - name: web
                  image: registry.example.com/shop/web:{region}  # set by the promotion pipeline
                - name: worker
                  image: registry.example.com/shop/worker:{region}  # set by the promotion pipeline

        """;

    /// <summary>A repository prefix of its own for one test: tests share the registries.</summary>
    public string NewPrefix() => $"shop{Interlocked.Increment(ref _n)}";

    /// <summary>The configuration: repositories <c>PREFIX/{image}</c>; <paramref name="usGates"/> and <paramref name="extra"/> are YAML.</summary>
    public string Yaml(string prefix, string usGates = "", string extra = "") => $$"""
        applications:
          shop:
            images:
              web: { context: apps/web }
              worker: { context: apps/worker }
        registries:
          dev: { host: {{Dev.Host}}, insecure: true }
          prod-eu: { host: {{Eu.Host}}, insecure: true }
          prod-us: { host: {{UsProxy.Host}}, insecure: true }
        environments:
          dev: { registry: dev, repository: "{{prefix}}/{image}", tag: "git-{commit}", tagMayMove: false }
          staging: { registry: dev, repository: "{{prefix}}/{image}", tag: staging }
          production-eu:
            from: staging
            group: production
            registry: prod-eu
            repository: "{{prefix}}/{image}"
            tag: production
            gitops: { repository: "{{GitOps.BarePath}}", manifests: [apps/shop/production-eu/deployment.yaml], container: "{image}" }
          production-us:
            from: staging
            group: production
            registry: prod-us
            repository: "{{prefix}}/{image}"
            tag: production
            gitops: { repository: "{{GitOps.BarePath}}", manifests: [apps/shop/production-us/deployment.yaml], container: "{image}" }
        {{usGates}}
        {{extra}}
        {{Tests.Evidence.Signing.RoleKeys.TrustYaml(Keys)}}
        """;

    public PromotionSession Session(string yaml, bool dryRun = false, string identity = "ada")
    {
        Log = new MemoryLog();
        var config = ConfigLoader.Parse(yaml, Path.Combine(Directory, "promotion.yaml"), Directory);
        return PromotionSession.Create(config, new SessionOptions
        {
            Commit = Commit, Identity = identity, DryRun = dryRun, ArtifactsDirectory = Path.Combine(Directory, "artifacts-" + Guid.NewGuid().ToString("N")[..6]),
            Environment = Tests.Evidence.Signing.RoleKeys.Variables(Keys),
        }, Log);
    }

    /// <summary>Pushes a fresh web and worker image under the commit tag in dev; returns their digests by image.</summary>
    public async Task<Dictionary<string, Digest>> PushBuildAsync(string prefix)
    {
        var digests = new Dictionary<string, Digest>();
        foreach (var image in Images)
            digests[image] = await PipelineSandbox.PushImageAsync(Dev, $"{prefix}/{image}", "git-" + Commit[..12],
                new LayerBuilder().File($"{image}/build.txt", Guid.NewGuid().ToString()), labels: new Dictionary<string, string> { ["org.opencontainers.image.vendor"] = "shop" });
        return digests;
    }

    /// <summary>Pushes and stages a build: what precedes PromoteProduction.</summary>
    public async Task<Dictionary<string, Digest>> StageAsync(string prefix, string yaml)
    {
        var digests = await PushBuildAsync(prefix);
        using var session = Session(yaml);
        var staged = await new PromotionPipeline(session).PromoteAsync(new ReleaseSelection(), "staging", null, null, null, CancellationToken.None);
        staged.ThrowIfRefused();
        return digests;
    }

    /// <summary>A region's registry, read directly (not through the proxy).</summary>
    public RegistryServer Registry(string region) => region == "production-eu" ? Eu : Us;

    /// <summary>What <paramref name="tag"/> of each image points at in <paramref name="region"/>, read directly.</summary>
    public async Task<Dictionary<string, Digest?>> TagsAsync(string prefix, string region, string tag = "production")
    {
        using var client = Registry(region).CreateClient();
        var result = new Dictionary<string, Digest?>();
        foreach (var image in Images) result[image] = (await client.HeadManifestAsync($"{prefix}/{image}", tag))?.Digest;
        return result;
    }

    /// <summary>A release already in production (both regions), as a later promotion finds it.</summary>
    public async Task ReleaseAlreadyThereAsync(string prefix)
    {
        foreach (var image in Images)
            foreach (var registry in new[] { Eu, Us })
                await PipelineSandbox.PushImageAsync(registry, $"{prefix}/{image}", "production", new LayerBuilder().File("old", image));
    }

    public async ValueTask DisposeAsync()
    {
        await UsProxy.DisposeAsync();
        await Dev.DisposeAsync();
        await Eu.DisposeAsync();
        await Us.DisposeAsync();
        GitOps.Dispose();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}
