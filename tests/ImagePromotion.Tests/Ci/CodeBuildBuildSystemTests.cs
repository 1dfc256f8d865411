using System.Diagnostics;
using ImagePromotion.Ci;
using ImagePromotion.Logging;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

[TestFixture]
public sealed class CodeBuildBuildSystemTests
{
    private CiSandbox _sandbox = null!;
    private StringWriter _stdout = null!;
    private SecretRedactor _redactor = null!;

    [SetUp]
    public void SetUp()
    {
        _sandbox = new CiSandbox();
        _stdout = new StringWriter();
        _redactor = new SecretRedactor();
    }

    [TearDown]
    public void TearDown() => _sandbox.Dispose();

    // The variables CodeBuild sets for a build started by CodePipeline.
    private static Dictionary<string, string?> Environment() => new()
    {
        ["CODEBUILD_BUILD_ID"] = "PromoteStaging:2f0a6d0e-1111-2222-3333-444455556666",
        ["CODEBUILD_BUILD_URL"] = "https://eu-west-1.console.aws.amazon.com/codebuild/home?region=eu-west-1#/builds/PromoteStaging:2f0a6d0e-1111-2222-3333-444455556666/view/new",
        ["CODEBUILD_INITIATOR"] = "codepipeline/image-promotion",
        ["CODEBUILD_RESOLVED_SOURCE_VERSION"] = "89abcdef0123456789abcdef0123456789abcdef",
        ["CODEBUILD_SOURCE_VERSION"] = "arn:aws:s3:::codepipeline-artifacts/image-promotion/App/abc.zip",
        ["CODEBUILD_WEBHOOK_HEAD_REF"] = "refs/heads/main",
        ["GITHUB_ACTIONS"] = null,
    };

    private CodeBuildBuildSystem Detect(Dictionary<string, string?>? env = null) =>
        (CodeBuildBuildSystem)BuildSystemDetector.Detect(env ?? Environment(), new BuildSystemOptions { Stdout = _stdout, Redactor = _redactor, WorkingDirectory = _sandbox.Root });

    [Test]
    public void Identity_run_url_commit_and_branch_come_from_codebuild_variables()
    {
        using var ci = Detect();
        Assert.That(ci.Name, Is.EqualTo("AWS CodeBuild"));
        Assert.That(ci.Identity.Actor, Is.EqualTo("codepipeline/image-promotion"));
        Assert.That(ci.RunUrl, Does.StartWith("https://eu-west-1.console.aws.amazon.com/codebuild/"));
        Assert.That(ci.Commit, Is.EqualTo("89abcdef0123456789abcdef0123456789abcdef"));
        Assert.That(ci.Branch, Is.EqualTo("main"));
    }

    [TestCase("refs/heads/release/2.x", "release/2.x")]
    [TestCase("main", "main")]
    [TestCase("pr/42", null)]
    [TestCase("0123456789abcdef0123456789abcdef01234567", null)]
    [TestCase("refs/tags/v1.2.3", null)]
    public void Branch_falls_back_to_the_source_version_only_when_it_names_a_branch(string sourceVersion, string? branch)
    {
        var env = Environment();
        env.Remove("CODEBUILD_WEBHOOK_HEAD_REF");
        env["CODEBUILD_SOURCE_VERSION"] = sourceVersion;
        using var ci = Detect(env);
        Assert.That(ci.Branch, Is.EqualTo(branch));
    }

    [Test]
    public void An_iam_user_initiator_is_the_identity()
    {
        var env = Environment();
        env["CODEBUILD_INITIATOR"] = "release-manager";
        using var ci = Detect(env);
        Assert.That(ci.Identity.ToString(), Is.EqualTo("release-manager"));
    }

    [Test]
    public void Outputs_land_in_the_exported_variables_file_and_survive_a_shell_source()
    {
        using var ci = Detect();
        var digest = "sha256:" + new string('b', 64);
        ci.SetOutput(OutputNames.Digest, digest);
        ci.SetOutput(OutputNames.Image, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/messenger@" + digest);
        ci.SetOutput("release-note", "it's $(rm -rf /) `x` \"quoted\"");

        var file = _sandbox.PathOf(".artifacts/exported-variables.env");
        Assert.That(ci.ExportedVariablesPath, Is.EqualTo(file));
        Assert.That(File.ReadAllLines(file)[0], Is.EqualTo("DIGEST=" + digest), "plain values stay plain KEY=value");

        // Exactly what the buildspec does at the end of its build phase.
        var echoed = Bash($"set -a; . '{file}'; set +a; printf '%s\\n' \"$DIGEST\" \"$IMAGE\" \"$RELEASE_NOTE\"");
        Assert.That(echoed, Is.EqualTo(new[]
        {
            digest,
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/messenger@" + digest,
            "it's $(rm -rf /) `x` \"quoted\"",
        }));
    }

    [Test]
    public void Multi_line_values_and_secrets_are_refused_without_writing()
    {
        using var ci = Detect();
        _redactor.Add("aws-secret-key-000");
        Assert.That(Assert.Throws<PromotionException>(() => ci.SetOutput("record", "a\nb"))!.Message, Does.Contain("line break"));
        Assert.That(Assert.Throws<PromotionException>(() => ci.SetOutput("key", "aws-secret-key-000"))!.Message, Does.Contain("KEY").And.Not.Contain("aws-secret"));
        Assert.That(Assert.Throws<PromotionException>(() => ci.SetOutput("9lives", "x"))!.Message, Does.Contain("'9lives'"));
        Assert.That(File.Exists(ci.ExportedVariablesPath), Is.False);
    }

    [Test]
    public void Custom_exported_variables_path_is_honoured()
    {
        using var ci = (CodeBuildBuildSystem)BuildSystemDetector.Detect(Environment(), new BuildSystemOptions
        {
            Stdout = _stdout, Redactor = _redactor, WorkingDirectory = _sandbox.Root, ExportedVariablesFile = "out/vars.env",
        });
        ci.SetOutput("digest", "sha256:1");
        Assert.That(File.ReadAllText(_sandbox.PathOf("out/vars.env")), Is.EqualTo("DIGEST=sha256:1\n"));
    }

    [Test]
    public void Warnings_groups_and_summary_are_plain_and_redacted()
    {
        using var ci = Detect();
        _redactor.Add("p4ssw0rd-long");
        ci.BeginGroup("Scan");
        ci.Warning("Port: 503 with p4ssw0rd-long");
        ci.MaskSecret("p4ssw0rd-long");
        ci.AppendSummary("| gate | result |");
        Assert.That(_stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "== Scan", "warning: Port: 503 with ***" }));
        Assert.That(File.ReadAllText(_sandbox.PathOf(".artifacts/summary.md")), Is.EqualTo("| gate | result |\n"));
    }

    private static string[] Bash(string script)
    {
        var psi = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.That(process.WaitForExit(10_000), Is.True);
        Assert.That(process.ExitCode, Is.EqualTo(0), error);
        return output.TrimEnd('\n').Split('\n');
    }
}
