using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Configuration;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Execution;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;
using ImagePromotion.Tests.Scanning;

namespace ImagePromotion.Tests.Gates.Pipeline;

/// <summary>Two real registries (dev+staging, production) and a promotion.yaml for them, as the sandbox has.</summary>
internal sealed class PipelineSandbox : IAsyncDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    public RegistryServer Dev { get; private init; } = null!;
    public RegistryServer Prod { get; private init; } = null!;
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("gates-").FullName;
    public MemoryLog Log { get; private set; } = new();

    /// <summary>One key pair per role: sessions sign with all of them and the configuration trusts them, as the sandbox does.</summary>
    public string Keys { get; }

    private PipelineSandbox() => Keys = Evidence.Signing.RoleKeys.Ensure(Directory);

    public static async Task<PipelineSandbox> StartAsync() =>
        new() { Dev = await RegistryServer.StartAsync(), Prod = await RegistryServer.StartAsync() };

    /// <summary>
    /// The configuration: the sandbox's environments plus <paramref name="extra"/> (top-level YAML) and production
    /// <paramref name="productionExtra"/> (indented 4); a top-level <c>trust:</c> names the sandbox's keys unless <paramref name="trust"/> is false.
    /// </summary>
    public string Yaml(string extra = "", string productionExtra = "", string repository = "team/app", bool trust = true) => $"""
        service: app
        registries:
          dev: {"{"} host: {Dev.Host}, insecure: true {"}"}
          prod: {"{"} host: {Prod.Host}, insecure: true {"}"}
        environments:
          dev:
            registry: dev
            repository: {repository}
            tag: "git-{"{commit}"}"
            tagMayMove: false
          staging:
            registry: dev
            repository: {repository}
            tag: staging
          production:
            registry: prod
            repository: {repository}
            tag: production
        {productionExtra}
        {extra}
        {(trust ? Evidence.Signing.RoleKeys.TrustYaml(Keys) : "")}
        """;

    /// <param name="environment">Variables on top of the signing keys of every role (set one to "" to take a key away).</param>
    public PromotionSession Session(string yaml, string identity = "ada", IReadOnlyDictionary<string, string?>? environment = null, IReadOnlyDictionary<string, string>? overrides = null)
    {
        Log = new MemoryLog();
        var variables = Evidence.Signing.RoleKeys.Variables(Keys);
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) variables[k] = v;
        var config = ConfigLoader.Parse(yaml, Path.Combine(Directory, "promotion.yaml"), Directory, overrides, variables);
        return PromotionSession.Create(config, new SessionOptions
        {
            Commit = Commit, Identity = identity, ArtifactsDirectory = Path.Combine(Directory, "artifacts"),
            Environment = variables,
        }, Log);
    }

    /// <summary>Pushes an image of one gzip'd layer and a config with the given user and labels.</summary>
    public static async Task<Digest> PushImageAsync(RegistryServer registry, string repository, string tag, LayerBuilder layer, string? user = "10001", IReadOnlyDictionary<string, string>? labels = null)
    {
        using var client = registry.CreateClient();
        var tar = layer.Tar();
        var gz = layer.TarGzip();
        var layerDigest = await client.PushBlobAsync(repository, gz);
        var cfg = new JsonObject { ["Labels"] = new JsonObject((labels ?? new Dictionary<string, string> { ["nonce"] = Guid.NewGuid().ToString("N") }).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        if (user is not null) cfg["User"] = user;
        var config = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["created"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["architecture"] = "amd64", ["os"] = "linux", ["config"] = cfg,
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(Digest.Sha256(tar).ToString()) },
        });
        var configDigest = await client.PushBlobAsync(repository, config);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["schemaVersion"] = 2, ["mediaType"] = TestImages.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = TestImages.OciConfig, ["digest"] = configDigest.ToString(), ["size"] = config.Length },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = TestImages.OciLayer, ["digest"] = layerDigest.ToString(), ["size"] = gz.Length }),
        });
        return await client.PushManifestAsync(repository, tag, TestImages.OciManifest, manifest);
    }

    /// <summary>Promotes the configuration's one application into <paramref name="into"/> and returns its one release's outcome.</summary>
    public static async Task<ReleaseOutcome> PromoteAsync(PromotionSession session, string into, string? from = null, Digest? digest = null, TimeProvider? clock = null)
    {
        var result = await new PromotionPipeline(session, clock).PromoteAsync(new ReleaseSelection { Digest = digest }, into, null, from, null, CancellationToken.None);
        return result.Outcome!.Releases.Single();
    }

    /// <summary>The commit's reference in dev of the configuration's one image.</summary>
    public static ImageReference DevReference(PromotionSession session)
    {
        var app = session.Config.Applications[0];
        return session.Reference(app, app.Images[0], session.Config.First);
    }

    /// <summary>Records a push of <paramref name="digest"/> by the session's identity, as PushDev does (the image came from elsewhere).</summary>
    public static Task RecordPushAsync(PromotionSession session, Digest digest, string branch = "main")
    {
        var dev = DevReference(session);
        return new PromotionRecorder(session).RecordAsync(new PromotionRecord
        {
            Kind = "push", Outcome = "promoted", Service = session.Config.Applications[0].Name, Digest = digest.ToString(), To = session.Config.First.Name,
            ToReference = dev.ToString(), Who = session.Options.Identity, When = DateTimeOffset.UtcNow, Branch = branch,
        }, dev.WithDigest(digest), CancellationToken.None);
    }

    /// <summary>A clean image like the sample app: a static site, USER 10001.</summary>
    public Task<Digest> PushCleanDevImageAsync(string repository = "team/app", string? tag = null) =>
        PushImageAsync(Dev, repository, tag ?? "git-" + Commit[..12], new LayerBuilder().File("srv/www/index.html", "<h1>hello " + Guid.NewGuid() + "</h1>"));

    public async ValueTask DisposeAsync()
    {
        await Dev.DisposeAsync();
        await Prod.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}
