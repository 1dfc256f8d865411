using System.Text;
using System.Text.Json;
using ImagePromotion.Pipeline.Building;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>
/// The outside world of one pipeline under test: a dev and a production registry with Basic auth (htpasswd), both
/// accepting one CI user, and a GitOps repository seeded from examples/gitops. The shipped configuration
/// (examples/sandbox/promotion.yaml) is used as it is; only where its registries and GitOps repository live is
/// given to the runner machine as PROMOTION__ variables.
/// </summary>
internal sealed class PipelineWorld : IAsyncDisposable
{
    public const string Repository = "team/sample-app";

    private PipelineWorld(RegistryServer dev, RegistryServer prod, string gitOps, string user, string password)
    {
        Dev = dev; Prod = prod; GitOpsRepository = gitOps; User = user; Password = password;
    }

    public RegistryServer Dev { get; }
    public RegistryServer Prod { get; }
    public string GitOpsRepository { get; }
    public string User { get; }
    public string Password { get; }

    /// <summary>Ignores the test where the tools the pipelines run are missing (./test.sh installs them).</summary>
    public static void RequireTools()
    {
        foreach (var tool in new[] { "buildah", "docker-registry", "htpasswd", "git" })
            if (!ExternalTool.Exists(tool)) Assert.Ignore($"{tool} is not installed: ./test.sh installs it");
    }

    public static async Task<PipelineWorld> StartAsync(RunnerMachine machine, string user, string password, CancellationToken ct)
    {
        var dev = await RegistryServer.StartAsync(RegistryServerOptions.BasicAuth(user, password), ct);
        var prod = await RegistryServer.StartAsync(RegistryServerOptions.BasicAuth(user, password), ct);
        var gitOps = machine.NewDirectory("gitops") + "/gitops.git";
        var seed = machine.NewDirectory("gitops-seed");
        RunnerMachine.CopyDirectory(RepositoryRoot.File("examples/gitops"), seed);
        await RunnerMachine.GitAsync(machine.Root, ct, "init", "-q", "--bare", "-b", "main", gitOps);
        await RunnerMachine.GitAsync(seed, ct, "init", "-q", "-b", "main");
        await RunnerMachine.GitAsync(seed, ct, "add", "-A");
        await RunnerMachine.GitAsync(seed, ct, "commit", "-q", "-m", "GitOps repository");
        await RunnerMachine.GitAsync(seed, ct, "push", "-q", gitOps, "main");
        return new PipelineWorld(dev, prod, gitOps, user, password);
    }

    /// <summary>
    /// One key pair per evidence role: the public halves committed where the shipped configuration trusts them
    /// (<c>.sandbox/keys</c>), the private halves returned as PEM by role variable (<c>PROMOTION_SIGNING_KEY_BUILD</c> …),
    /// for the CI secrets. Returns the commit that holds the public keys.
    /// </summary>
    public static async Task<(string Commit, Dictionary<string, string> PrivateKeys)> SigningKeysAsync(RunnerMachine machine, CancellationToken ct)
    {
        var keys = ImagePromotion.Tests.Evidence.Signing.RoleKeys.Ensure(machine.NewDirectory("signing"));
        var commit = await machine.CommitPublicKeysAsync(keys, ".sandbox/keys", ct);
        var pems = Enum.GetValues<ImagePromotion.Evidence.Attestations.KeyRole>().ToDictionary(
            r => ImagePromotion.Evidence.Signing.EvidenceSigners.Variable(r),
            r => File.ReadAllText(Path.Combine(keys, ImagePromotion.Evidence.Signing.KeyPairs.FileName(r) + ".key")));
        return (commit, pems);
    }

    /// <summary>Where the shipped configuration's registries and GitOps repository are, for the runner machine.</summary>
    public Dictionary<string, string> ConfigurationOverrides() => new()
    {
        ["PROMOTION__registries__dev__host"] = Dev.Host,
        ["PROMOTION__registries__prod__host"] = Prod.Host,
        ["PROMOTION__environments__production__gitops__repository"] = GitOpsRepository,
    };

    public async Task<string?> DigestAsync(RegistryServer registry, string tag, CancellationToken ct)
    {
        using var client = registry.CreateClient();
        return (await client.GetManifestDigestAsync(Repository, tag, ct))?.ToString();
    }

    /// <summary>The image's org.opencontainers.image.revision label, read from its config in the registry.</summary>
    public async Task<string?> RevisionLabelAsync(RegistryServer registry, string digest, CancellationToken ct)
    {
        using var client = registry.CreateClient();
        var manifest = await client.GetManifestAsync(Repository, digest, ct) ?? throw new AssertionException($"{digest} is not in {registry.Host}");
        var config = Digest.Parse(manifest.Json.GetProperty("config").GetProperty("digest").GetString()!);
        var bytes = await client.GetBlobAsync(Repository, config, ct);
        using var doc = JsonDocument.Parse(bytes!);
        return doc.RootElement.GetProperty("config").TryGetProperty("Labels", out var labels) && labels.TryGetProperty(BuildRevision.RevisionLabel, out var revision)
            ? revision.GetString() : null;
    }

    /// <summary>The newest release-* tag of production and its digest.</summary>
    public async Task<(string Tag, string? Digest)> NewestReleaseAsync(CancellationToken ct)
    {
        using var client = Prod.CreateClient();
        var tag = (await client.ListTagsAsync(Repository, ct)).Where(t => t.StartsWith("release-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault()
            ?? throw new AssertionException("production has no release tag");
        return (tag, await DigestAsync(Prod, tag, ct));
    }

    /// <summary>Points staging at another image, as another promotion would (a raw manifest PUT of a random image).</summary>
    public async Task<string> MoveStagingElsewhereAsync(CancellationToken ct) =>
        (await TestImages.PushRandomImageAsync(Dev, Repository, "staging", cancellationToken: ct)).Digest.ToString();

    /// <summary>Puts staging back to <paramref name="digest"/> (the manifest bytes re-PUT under the tag).</summary>
    public async Task PointStagingAtAsync(string digest, CancellationToken ct)
    {
        using var client = Dev.CreateClient();
        var manifest = await client.GetManifestAsync(Repository, digest, ct) ?? throw new AssertionException($"{digest} is not in dev");
        await client.PushManifestAsync(Repository, "staging", manifest.MediaType, manifest.Bytes, ct);
    }

    /// <summary>The records a job wrote to its journal (.artifacts/promotions.jsonl).</summary>
    public static IReadOnlyList<PromotionRecord> Journal(string workspace)
    {
        var path = Path.Combine(workspace, ".artifacts", PromotionRecorder.JournalFile);
        return File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => PromotionRecord.FromJson(Encoding.UTF8.GetBytes(l))).ToArray()
            : [];
    }

    public async ValueTask DisposeAsync()
    {
        await Dev.DisposeAsync();
        await Prod.DisposeAsync();
    }
}
