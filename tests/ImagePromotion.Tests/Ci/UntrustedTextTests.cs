using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Evidence;
using ImagePromotion.Tests.Gates.Pipeline;
using ImagePromotion.Tests.Infrastructure;
using ImagePromotion.Tests.Reliability;
using ImagePromotion.Tests.Scanning;

namespace ImagePromotion.Tests.Ci;

/// <summary>
/// Workflow commands and Markdown planted in every place untrusted text comes from (file names in image layers, image
/// labels, a scanner's name, evidence fields), run through the real Cake host with the GitHub Actions variables set:
/// no line of the output is read by the runner as a command of theirs, and the step summary shows the links as text.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class UntrustedTextTests
{
    private RegistryServer _registry = null!;
    private CakeRunner _cake = null!;
    private string _summary = null!;
    private Digest _digest;
    private string _trustedKey = null!;
    private const string Link = "[Approved](https://evil.example/approve)";

    // What an attacker writes: stop the runner's command processing, mask the digest, forge an annotation, with CR and LF.
    private string Payload(string where) => $"ok\n::stop-commands::{where}\r::add-mask::{_digest.Encoded}\r\n::notice title=Approved::{where}\n##[add-mask]{_digest.Encoded} {Link}";

    [OneTimeSetUp]
    public async Task Start()
    {
        if (!ExternalTool.Exists("bash")) Assert.Ignore("bash is needed to run build.sh");
        _registry = await RegistryServer.StartAsync();
        var work = Directory.CreateTempSubdirectory("untrusted-text-").FullName;
        var fakeScanner = Path.Combine(work, "scanner.sh");
        await File.WriteAllTextAsync(fakeScanner, "#!/bin/sh\necho 'fatal: scan error' >&2\nexit 1\n");
        File.SetUnixFileMode(fakeScanner, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // A layer whose file names carry the payload and whose content trips the secret scanner (so the names are printed).
        _digest = Digest.Sha256("placeholder"u8);
        // A tar path cannot hold LF (.NET's reader, like others, refuses it in a pax record), but CR ends a runner line as well.
        var layer = new LayerBuilder()
            .File("app/x\r::stop-commands::file-name\r::notice title=Approved::file-name\r##[add-mask]sha256 " + Link + ".env",
                "AWS_SECRET=" + FakeSecrets.AwsSecretKey + "\nid=" + FakeSecrets.AwsAccessKeyId + "\n")
            .File("app/index.html", "<h1>hello</h1>");
        _digest = await PipelineSandbox.PushImageAsync(_registry, "team/app", "v1", layer, labels: new Dictionary<string, string>
        {
            ["org.opencontainers.image.title"] = "::notice title=Approved::label\n::add-mask::label",
            ["org.opencontainers.image.source"] = Link,
        });

        // Evidence whose fields carry the payload, signed (so the Evidence target prints its fields) with a key it is told to trust.
        var keys = Path.Combine(work, "keys");
        var (pair, _) = KeyPairs.Ensure(keys, KeyRole.Approval);
        _trustedKey = pair.PublicKeyPath;
        using (var transport = EvidenceStoreTests.Transport(_registry))
        using (var signers = new EvidenceSigners(new Dictionary<string, string?> { ["PROMOTION_SIGNING_KEY_APPROVAL_FILE"] = pair.PrivateKeyPath }, new SecretRedactor()))
        {
            var reference = ImageReference.Parse($"{_registry.Host}/team/app@{_digest}");
            await new EvidenceStore(transport, new MemoryLog(), signers: signers).PushAsync(reference, new EvidencePiece(EvidenceTypes.ApprovalDecision,
                JsonSerializer.SerializeToUtf8Bytes(new { digest = _digest.ToString(), environment = Payload("evidence"), login = Payload("evidence"), commitId = "::error::x" })), CancellationToken.None);
        }

        var config = Path.Combine(work, "promotion.yaml");
        await File.WriteAllTextAsync(config, $"""
            service: app
            registries:
              dev: {"{"} host: {_registry.Host}, insecure: true {"}"}
            environments:
              dev: {"{"} registry: dev, repository: team/app, tag: "git-{"{commit}"}", tagMayMove: false {"}"}
            scan:
              scanners:
                - name: {JsonSerializer.Serialize(Payload("scanner"))}
                  executable: {fakeScanner}
                  args: ["{"{image}"}"]
            """);
        _cake = new CakeRunner(work, config);
        _summary = Path.Combine(work, "step-summary.md");
        foreach (var (k, v) in new Dictionary<string, string?>
        {
            ["GITHUB_ACTIONS"] = "true", ["GITHUB_OUTPUT"] = Path.Combine(work, "github-output"), ["GITHUB_STEP_SUMMARY"] = _summary,
            ["GITHUB_ACTOR"] = "dev-bot", ["GITHUB_REPOSITORY"] = "acme/app", ["GITHUB_RUN_ID"] = "42", ["GITHUB_SERVER_URL"] = "https://github.com",
            ["GITHUB_SHA"] = "0123456789abcdef0123456789abcdef01234567",
        })
            _cake.Environment[k] = v;
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_registry is null) return;
        await _registry.DisposeAsync();
        try { Directory.Delete(_cake.WorkDirectory, recursive: true); } catch (IOException) { }
    }

    /// <summary>Reads the output as GitHub's runner does: a line ends at CR, LF or CRLF; `::` after leading white space, `##[` anywhere.</summary>
    private void AssertNoForeignCommand(CakeRunner.Run run)
    {
        var ours = new[] { "group", "endgroup", "warning", "error", "add-mask" };
        foreach (var line in run.Output.Split('\r', '\n'))
        {
            Assert.That(line, Does.Not.Contain("##["), $"a legacy workflow command reached the log: {line}");
            var trimmed = line.TrimStart();
            if (!trimmed.StartsWith("::", StringComparison.Ordinal)) continue;
            var name = trimmed[2..].Split(' ', ':')[0];
            Assert.That(ours, Does.Contain(name), $"a workflow command that is not ours reached the log: {line}");
            Assert.That(trimmed, Does.Not.Contain(_digest.Encoded), $"a command names the image digest: {line}");
            Assert.That(trimmed, Does.Not.Contain("stop-commands").And.Not.Contain("Approved"), $"a command of ours carries the payload as a command: {line}");
        }
    }

    [Test]
    public void Scan_prints_file_names_labels_and_a_scanner_name_as_text()
    {
        var run = _cake.Execute("--target=Scan", $"--image={_registry.Host}/team/app@{_digest}");
        Assert.That(run.ExitCode, Is.Not.Zero, "the scan fails: a secret in a layer and a failing scanner");
        Assert.That(run.Output, Does.Contain("stop-commands::file-name"), "the file name did reach the log (as text)");
        Assert.That(run.Output, Does.Contain("stop-commands::scanner"), "the scanner name did reach the log (as text)");
        Assert.That(run.Output, Does.Contain(LogText.CommandGuard + "::"), "a line that would have been a command was neutralised");
        AssertNoForeignCommand(run);

        var summary = File.ReadAllText(_summary);
        Assert.That(summary, Does.Contain("stop-commands::scanner"), "the scanner's name reached the step summary (as text)");
        Assert.That(summary, Does.Not.Contain(Link), "a Markdown link from a scanner name is rendered as text");
        Assert.That(summary, Does.Contain(@"\[Approved\]\(https://evil.example/approve\)"));
    }

    [Test]
    public void Evidence_prints_the_fields_of_a_trusted_piece_as_text()
    {
        var run = _cake.Execute("--target=Evidence", $"--image={_registry.Host}/team/app@{_digest}", $"--trusted-key={_trustedKey}");
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Output, Does.Contain("trusted").And.Contain("approval decision"));
        Assert.That(run.Output, Does.Contain(@"ok\n::stop-commands::evidence\r::add-mask::"), "the field is quoted with its line breaks escaped");
        AssertNoForeignCommand(run);
    }
}
