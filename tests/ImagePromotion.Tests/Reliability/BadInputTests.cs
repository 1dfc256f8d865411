using System.Text;
using System.Text.Json;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Reliability;

/// <summary>
/// Bad input through the hosts a user runs (./build.sh and promote-copy) and bad content from registries:
/// each is one line naming the input, a non-zero exit, no stack trace at normal verbosity, and no write.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class BadInputTests
{
    private RegistryServer _registry = null!;
    private RegistryTestClient _raw = null!;
    private ContentRegistry _content = null!;
    private CakeRunner _cake = null!;
    private PushedImage _image = null!;
    private CancellationTokenSource _timeout = null!;
    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task Start()
    {
        _timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        _registry = await RegistryServer.StartAsync(cancellationToken: Ct);
        _raw = _registry.CreateClient();
        _content = await ContentRegistry.StartAsync(Ct);
        _image = await TestImages.PushRandomImageAsync(_registry, "team/app", "v1", cancellationToken: Ct);
        var work = Directory.CreateTempSubdirectory("reliability-badinput-").FullName;
        var config = Path.Combine(work, "promotion.yaml");
        await File.WriteAllTextAsync(config, $"""
            service: app
            registries:
              dev: {"{"} host: {_registry.Host}, insecure: true {"}"}
            environments:
              dev: {"{"} registry: dev, repository: team/app, tag: v1 {"}"}
              production: {"{"} registry: dev, repository: prod/app, tag: production {"}"}
            """, Ct);
        _cake = new CakeRunner(work, config);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _raw.Dispose();
        await _registry.DisposeAsync();
        await _content.DisposeAsync();
        try { Directory.Delete(_cake.WorkDirectory, recursive: true); } catch (IOException) { }
        _timeout.Dispose();
    }

    private async Task AssertNoWriteAsync()
    {
        var writes = (await _registry.GetRequestsAsync(Ct)).Where(r => r.Method is "PUT" or "POST" or "PATCH" or "DELETE").ToList();
        Assert.That(writes, Is.Empty, string.Join("; ", writes.Select(w => $"{w.Method} {w.Path}")));
    }

    private static void AssertOneLineError(CakeRunner.Run run, string mentions)
    {
        Assert.That(run.ExitCode, Is.Not.Zero, run.ToString());
        Assert.That(run.ErrorLines, Has.Length.EqualTo(1), run.ToString());
        Assert.That(run.ErrorLines[0], Does.Contain(mentions));
        Assert.That(run.Output, Does.Not.Contain("   at "), "no stack trace at normal verbosity");
        Assert.That(run.Output, Does.Not.Contain("Exception:"), "no exception type names at normal verbosity");
    }

    // ./build.sh: one run each, so a few representative inputs; the data-driven corpus is below.
    [Test]
    public async Task BuildScript_unknown_target_hostile_config_bad_reference_and_escaping_manifest_path()
    {
        await _registry.ResetRequestLogAsync(Ct);
        AssertOneLineError(_cake.Execute("--target=PromoteEverywhere"), "PromoteEverywhere");

        var hostile = Path.Combine(_cake.WorkDirectory, "hostile.yaml");
        await File.WriteAllTextAsync(hostile, "service: app\nx: " + new string('[', 100_000), Ct);
        AssertOneLineError(_cake.Execute("--target=Status", $"--config={hostile}"), hostile);

        AssertOneLineError(_cake.Execute("--target=Copy", $"--from={_registry.Host}/team/app:v1", $"--to={_registry.Host}/Team/App:v1"), "Team/App");
        AssertOneLineError(_cake.Execute("--target=Copy", "--from=no such image", $"--to={_registry.Host}/team/copy:v1"), "no such image");

        var repo = Path.Combine(_cake.WorkDirectory, "gitops");
        Directory.CreateDirectory(repo);
        var outside = Path.Combine(_cake.WorkDirectory, "outside.yaml");
        const string original = "apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n    - name: app\n      image: example.com/app:1\n";
        await File.WriteAllTextAsync(outside, original, Ct);
        var escape = _cake.Execute("--target=UpdateManifest", $"--root={repo}", $"--manifest={outside}", "--container=app", $"--image={_registry.Host}/team/app:v2");
        AssertOneLineError(escape, "outside.yaml");
        Assert.That(await File.ReadAllTextAsync(outside, Ct), Is.EqualTo(original), "the file outside the repository is untouched");
        await AssertNoWriteAsync();
    }

    public static IEnumerable<TestCaseData> BadReferences()
    {
        yield return new TestCaseData("not a reference!", "not a reference!").SetName("promote-copy: spaces and punctuation");
        yield return new TestCaseData("127.0.0.1:5000/Team/App:v1", "Team/App").SetName("promote-copy: upper-case repository");
        yield return new TestCaseData("127.0.0.1:5000/team/app:-v1", "-v1").SetName("promote-copy: tag starting with '-'");
        yield return new TestCaseData("127.0.0.1:5000/team/app@sha256:abc", "sha256:abc").SetName("promote-copy: short digest");
        yield return new TestCaseData("127.0.0.1:5000/team/app:" + new string('t', 200), "tttttt").SetName("promote-copy: 200-character tag");
    }

    [TestCaseSource(nameof(BadReferences))]
    public async Task PromoteCopy_refuses_a_bad_destination_reference_in_one_line(string reference, string mentions)
    {
        await _registry.ResetRequestLogAsync(Ct);
        var run = PromoteCopyConsole.Execute(_registry.Reference("team/app", "v1"), reference);

        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), run.Output);
        Assert.That(lines[0], Does.StartWith("error: invalid image reference").And.Contain(mentions));
        Assert.That(run.Output, Does.Not.Contain("   at "));
        await AssertNoWriteAsync();
    }

    [Test]
    public void PromoteCopy_unknown_option_is_refused()
    {
        var run = PromoteCopyConsole.Execute("--frobnicate", "a", "b");
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Stderr.Trim(), Is.EqualTo("error: unknown option '--frobnicate'"));
    }

    private static byte[] ManifestJson(string mediaType, int padding = 0)
    {
        var doc = new Dictionary<string, object?>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["config"] = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = "sha256:" + new string('a', 64), size = 2 },
            ["layers"] = Array.Empty<object>(),
        };
        if (padding > 0) doc["annotations"] = new Dictionary<string, string> { ["pad"] = new string('p', padding) };
        return JsonSerializer.SerializeToUtf8Bytes(doc);
    }

    [Test]
    public async Task PromoteCopy_refuses_a_manifest_of_unknown_media_type_and_writes_nothing()
    {
        // Distribution refuses to store such a manifest (MANIFEST_INVALID), so a read-only server shaped like the API serves it.
        _content.Serve("odd/thing", "v1", ManifestJson("application/vnd.example.thing.v1+json"), "application/vnd.example.thing.v1+json");
        await _registry.ResetRequestLogAsync(Ct);

        var run = PromoteCopyConsole.Execute($"{_content.Host}/odd/thing:v1", _registry.Reference("odd/thing", "v1"));

        Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
        Assert.That(run.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(run.Stderr, Does.Contain("unsupported media type 'application/vnd.example.thing.v1+json'").And.Contain("odd/thing:v1"));
        await AssertNoWriteAsync();
        Assert.That(await _raw.GetManifestDigestAsync("odd/thing", "v1", Ct), Is.Null);
    }

    public static IEnumerable<TestCaseData> OversizedManifests()
    {
        yield return new TestCaseData(false).SetName("Manifest_over_4_MiB_is_refused_before_it_is_read (Content-Length)");
        yield return new TestCaseData(true).SetName("Manifest_over_4_MiB_is_refused_while_it_is_read (chunked, no Content-Length)");
    }

    [TestCaseSource(nameof(OversizedManifests))]
    public async Task Manifest_over_the_limit_is_refused(bool chunked)
    {
        var tag = chunked ? "chunked" : "sized";
        var bytes = ManifestJson("application/vnd.oci.image.manifest.v1+json", 5 * 1024 * 1024);
        _content.Serve("big/app", tag, bytes, "application/vnd.oci.image.manifest.v1+json", chunked);
        await _registry.ResetRequestLogAsync(Ct);
        using var engine = ReliabilityEngine.Create();

        var ex = Assert.CatchAsync(() => engine.CopyAsync($"{_content.Host}/big/app:{tag}", _registry.Reference("big/app", tag), ct: Ct))!;

        OneLine.AssertClear(ex, $"big/app:{tag}", "4194304");
        await AssertNoWriteAsync();
    }

    [Test]
    public async Task Registry_serving_other_bytes_for_a_digest_is_refused()
    {
        await using var proxy = await FaultProxy.StartAsync(_registry, Ct);
        proxy.Inject("GET", "/manifests/", FaultAction.CorruptByte(10), times: FaultProxy.Always);
        await _registry.ResetRequestLogAsync(Ct);
        using var engine = ReliabilityEngine.Create();

        var ex = Assert.CatchAsync(() => engine.CopyAsync($"{proxy.Host}/team/app@{_image.Digest}", _registry.Reference("team/copied", "v1"), ct: Ct))!;

        OneLine.AssertClear(ex, $"team/app@{_image.Digest}", "does not match its digest");
        await AssertNoWriteAsync();
    }
}
