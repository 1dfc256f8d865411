using System.Text;
using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

[TestFixture]
public sealed class LayerSecretScannerTests
{
    private static byte[] PlantedLayer() => new LayerBuilder()
        .Directory("etc")
        .Directory("etc/ssl/private")
        .File("etc/ssl/private/server.key", FakeSecrets.PemKey)
        .Directory("app/config/deep/er")
        .File("app/config/deep/er/settings.ini", $"[aws]\nregion = eu-west-1\naccess_key = {FakeSecrets.AwsAccessKeyId}\n")
        .File("./home/ci/.config/gh/hosts.yml", $"github.com:\n    user: ci\n    oauth_token: {FakeSecrets.GitHubToken}\n    git_protocol: https\n")
        .File("usr/bin/tool", Encoding.UTF8.GetBytes("\u007fELF\0\0\0" + FakeSecrets.GitHubToken))
        .File("app/README.md", "nothing to see here\n")
        .TarGzip();

    private static Task<LayerScanResult> Scan(byte[] blob, string mediaType = LayerMediaTypes.OciTarGzip, LayerSecretScanner? scanner = null) =>
        (scanner ?? new LayerSecretScanner()).ScanAsync(LayerBuilder.DigestOf(blob), mediaType, new ForwardOnlyStream(blob));

    [Test]
    public async Task Finds_planted_secrets_in_nested_text_files_with_path_line_and_rule()
    {
        var blob = PlantedLayer();
        var result = await Scan(blob);

        Assert.That(result.SkippedReason, Is.Null);
        var found = result.Findings.Select(f => (f.Id, f.Path, f.Line)).ToArray();
        Assert.That(found, Is.EquivalentTo(new[]
        {
            ("private-key", "/etc/ssl/private/server.key", (int?)1),
            ("aws-access-key-id", "/app/config/deep/er/settings.ini", (int?)3),
            ("github-token", "/home/ci/.config/gh/hosts.yml", (int?)3),
        }));
        Assert.That(result.Findings.Select(f => f.Layer).Distinct(), Is.EqualTo(new[] { LayerBuilder.DigestOf(blob).ToString() }));
        Assert.That(result.Findings.Single(f => f.Id == "private-key").Severity, Is.EqualTo(Severity.Critical));
        Assert.That(result.FilesScanned, Is.EqualTo(4));
    }

    [Test]
    public async Task Binary_file_with_a_secret_is_skipped_and_counted()
    {
        var result = await Scan(PlantedLayer());

        Assert.That(result.BinaryFilesSkipped, Is.EqualTo(1));
        Assert.That(result.Findings.Any(f => f.Path == "/usr/bin/tool"), Is.False);
    }

    [Test]
    public async Task Findings_show_a_masked_hint_and_never_the_secret()
    {
        var result = await Scan(PlantedLayer());
        var text = string.Join("\n", result.Findings.Select(f => f.ToString()));

        foreach (var secret in new[] { FakeSecrets.AwsAccessKeyId, FakeSecrets.GitHubToken, FakeSecrets.PemBody })
            Assert.That(text, Does.Not.Contain(secret));
        Assert.That(result.Findings.Single(f => f.Id == "github-token").Title, Does.Contain(FakeSecrets.GitHubToken[..4] + "***"));
        Assert.That(result.Findings.Single(f => f.Id == "aws-access-key-id").Title, Does.EndWith("(AKIA***)"));
    }

    [Test]
    public async Task Line_numbers_stay_right_past_the_binary_sniff_block()
    {
        var text = new StringBuilder();
        for (var i = 1; i < 700; i++) text.Append("line ").Append(i).Append(" of ordinary configuration text\n");
        text.Append("token: ").Append(FakeSecrets.GitHubToken).Append('\n');
        Assert.That(Encoding.UTF8.GetByteCount(text.ToString()), Is.GreaterThan(16 * 1024), "the secret must lie beyond the sniff block");

        var result = await Scan(new LayerBuilder().File("srv/app.yaml", text.ToString()).TarGzip());

        Assert.That(result.Findings.Single().Line, Is.EqualTo(700));
    }

    [Test]
    public async Task File_over_the_default_10_MiB_cap_is_skipped()
    {
        var big = new byte[LayerSecretScanner.DefaultMaxFileSize + 1];
        Array.Fill(big, (byte)'a');
        Encoding.ASCII.GetBytes("\n" + FakeSecrets.StripeKey).CopyTo(big, 100);

        var result = await Scan(new LayerBuilder().File("var/dump.sql", big).File("etc/hosts", "127.0.0.1 localhost\n").TarGzip());

        Assert.That(result.LargeFilesSkipped, Is.EqualTo(1));
        Assert.That(result.FilesScanned, Is.EqualTo(1));
        Assert.That(result.Findings, Is.Empty);
    }

    [Test]
    public async Task Smaller_configured_cap_skips_smaller_files()
    {
        var scanner = new LayerSecretScanner { MaxFileSize = 64 };
        var result = await Scan(new LayerBuilder().File("app/.env", "X=" + new string('y', 80) + "\nK=" + FakeSecrets.StripeKey).TarGzip(), scanner: scanner);

        Assert.That(result.LargeFilesSkipped, Is.EqualTo(1));
        Assert.That(result.Findings, Is.Empty);
    }

    [Test]
    public async Task Whiteout_files_are_skipped()
    {
        var result = await Scan(new LayerBuilder()
            .File("app/.wh.old-secrets.txt", "key: " + FakeSecrets.GitHubToken)
            .File("app/.wh..wh..opq", FakeSecrets.GitHubToken)
            .TarGzip());

        Assert.That(result.Findings, Is.Empty);
        Assert.That(result.FilesScanned, Is.EqualTo(0));
    }

    [Test]
    public async Task Uncompressed_oci_layer_is_read_forward_only()
    {
        var tar = new LayerBuilder().File("root/.aws/credentials",
            $"[default]\naws_access_key_id = {FakeSecrets.AwsAccessKeyId}\naws_secret_access_key = {FakeSecrets.AwsSecretKey}\n").Tar();

        var result = await Scan(tar, LayerMediaTypes.OciTar);

        Assert.That(result.Findings.Select(f => (f.Id, f.Line)), Is.EquivalentTo(new[] { ("aws-access-key-id", (int?)2), ("aws-secret-access-key", (int?)3) }));
        Assert.That(string.Join(" ", result.Findings.Select(f => f.Title)), Does.Not.Contain(FakeSecrets.AwsSecretKey));
        Assert.That(result.Findings.Single(f => f.Id == "aws-access-key-id").Title, Does.EndWith("with a secret access key on line 3"));
    }

    [Test]
    public async Task Documentation_placeholder_keys_are_not_findings()
    {
        // AWS's documented example credentials, as shipped in SDK docs and man pages.
        var result = await Scan(new LayerBuilder().File("usr/share/doc/awscli/examples.txt",
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n" +
            "real = " + FakeSecrets.AwsAccessKeyId + "\n").TarGzip());

        Assert.That(result.Findings.Select(f => (f.Id, f.Line)), Is.EqualTo(new[] { ("aws-access-key-id", (int?)3) }));
        Assert.That(result.Findings[0].Title, Does.Not.Contain("secret access key on line"));
    }

    [Test]
    public async Task Docker_rootfs_diff_gzip_layer_is_scanned()
    {
        var result = await Scan(new LayerBuilder().File("opt/deploy.sh", "export SLACK=" + FakeSecrets.SlackToken + "\n").TarGzip(), LayerMediaTypes.DockerTarGzip);

        Assert.That(result.Findings.Single().Id, Is.EqualTo("slack-token"));
    }

    [TestCase("google-api-key")]
    [TestCase("stripe-secret-key")]
    [TestCase("jwt")]
    [TestCase("slack-token")]
    public async Task Each_well_known_token_shape_is_recognised(string rule)
    {
        var secret = rule switch
        {
            "google-api-key" => FakeSecrets.GoogleApiKey,
            "stripe-secret-key" => FakeSecrets.StripeKey,
            "jwt" => FakeSecrets.Jwt,
            _ => FakeSecrets.SlackToken,
        };
        var result = await Scan(new LayerBuilder().File("app/config.json", "{\n  \"name\": \"shop\",\n  \"credential\": \"" + secret + "\"\n}\n").TarGzip());

        var finding = result.Findings.Single();
        Assert.That((finding.Id, finding.Line), Is.EqualTo((rule, (int?)3)));
        Assert.That(finding.Title, Does.Not.Contain(secret));
    }

    [Test]
    public async Task Zstd_layer_is_skipped_with_a_clear_reason()
    {
        var result = await Scan(new byte[] { 0x28, 0xb5, 0x2f, 0xfd, 0, 0 }, LayerMediaTypes.OciTarZstd);

        Assert.That(result.SkippedReason, Does.Contain("zstd").And.Contain("not supported, skipped"));
        Assert.That(result.Findings, Is.Empty);
    }

    [Test]
    public async Task Blob_that_is_not_a_layer_tarball_is_skipped()
    {
        var result = await Scan("{}"u8.ToArray(), "application/vnd.in-toto+json");

        Assert.That(result.SkippedReason, Does.Contain("'application/vnd.in-toto+json' is not a layer tarball"));
    }

    [Test]
    public void Corrupt_gzip_layer_is_a_one_line_error_naming_the_layer()
    {
        var blob = Encoding.ASCII.GetBytes("this is not gzip data at all, just text pretending to be a layer");
        var ex = Assert.ThrowsAsync<PromotionException>(() => Scan(blob));

        Assert.That(ex!.Message, Does.StartWith($"layer {LayerBuilder.DigestOf(blob)}: cannot read it as {LayerMediaTypes.OciTarGzip}"));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public async Task Switched_off_rule_finds_nothing_and_downgraded_rule_reports_the_new_severity()
    {
        var settings = BuiltInRuleSettings.Parse(new Dictionary<string, string?> { ["github-token"] = "off", ["private-key"] = "low" });

        var result = await Scan(PlantedLayer(), scanner: new LayerSecretScanner(settings));

        Assert.That(result.Findings.Any(f => f.Id == "github-token"), Is.False);
        Assert.That(result.Findings.Single(f => f.Id == "private-key").Severity, Is.EqualTo(Severity.Low));
        Assert.That(result.Findings.Single(f => f.Id == "aws-access-key-id").Severity, Is.EqualTo(Severity.High));
    }
}
