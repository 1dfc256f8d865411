using ImagePromotion.Ci;
using ImagePromotion.Logging;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

[TestFixture]
public sealed class GitHubActionsBuildSystemTests
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

    // The variables a GitHub-hosted runner sets for a workflow_dispatch run.
    private Dictionary<string, string?> Environment() => new()
    {
        ["GITHUB_ACTIONS"] = "true",
        ["GITHUB_ACTOR"] = "octocat",
        ["GITHUB_TRIGGERING_ACTOR"] = "hubot",
        ["GITHUB_SERVER_URL"] = "https://github.com",
        ["GITHUB_REPOSITORY"] = "acme/messenger",
        ["GITHUB_RUN_ID"] = "1234567890",
        ["GITHUB_SHA"] = "0123456789abcdef0123456789abcdef01234567",
        ["GITHUB_REF_NAME"] = "main",
        ["GITHUB_OUTPUT"] = _sandbox.PathOf("runner/_temp/_runner_file_commands/set_output_1"),
        ["GITHUB_STEP_SUMMARY"] = _sandbox.PathOf("runner/_temp/_runner_file_commands/step_summary_1"),
    };

    private IBuildSystem Detect(Dictionary<string, string?>? env = null) =>
        BuildSystemDetector.Detect(env ?? Environment(), new BuildSystemOptions { Stdout = _stdout, Redactor = _redactor, WorkingDirectory = _sandbox.Root });

    [Test]
    public void Identity_run_url_commit_and_branch_come_from_the_runner_variables()
    {
        using var ci = Detect();
        Assert.That(ci, Is.TypeOf<GitHubActionsBuildSystem>());
        Assert.That(ci.Identity.Actor, Is.EqualTo("octocat"));
        Assert.That(ci.Identity.TriggeringActor, Is.EqualTo("hubot"));
        Assert.That(ci.Identity.ToString(), Is.EqualTo("octocat (triggered by hubot)"));
        Assert.That(ci.RunUrl, Is.EqualTo("https://github.com/acme/messenger/actions/runs/1234567890"));
        Assert.That(ci.Commit, Is.EqualTo("0123456789abcdef0123456789abcdef01234567"));
        Assert.That(ci.Branch, Is.EqualTo("main"));
    }

    [Test]
    public void Enterprise_server_url_is_used_for_the_run_link()
    {
        var env = Environment();
        env["GITHUB_SERVER_URL"] = "https://ghe.example.internal/";
        using var ci = Detect(env);
        Assert.That(ci.RunUrl, Is.EqualTo("https://ghe.example.internal/acme/messenger/actions/runs/1234567890"));
    }

    [Test]
    public void Mask_secret_writes_add_mask_once_per_line()
    {
        using var ci = Detect();
        ci.MaskSecret("line-one\nline%two\r\n");
        Assert.That(Lines(), Is.EqualTo(new[] { "::add-mask::line-one", "::add-mask::line%25two" }));
    }

    [Test]
    public void Every_secret_registered_later_is_masked()
    {
        using (var ci = Detect())
        {
            _redactor.Add("ghp_abcdefghijklmnop");
            _redactor.Add("ghp_abcdefghijklmnop"); // already known: no second mask
        }
        _redactor.Add("after-dispose-secret"); // the build system is gone: no write to a dead writer
        Assert.That(Lines(), Is.EqualTo(new[] { "::add-mask::ghp_abcdefghijklmnop" }));
    }

    [Test]
    public void Single_and_multi_line_outputs_are_read_back_as_the_runner_reads_them()
    {
        using var ci = Detect();
        ci.SetOutput("digest", "sha256:" + new string('a', 64));
        ci.SetOutput("promotion_record", "{\"a\":1}\n{\"b\":2}");
        ci.SetOutput("pr-url", "https://github.com/acme/gitops/pull/7");

        var outputs = RunnerOutputParser.Parse(File.ReadAllText(Environment()["GITHUB_OUTPUT"]!));
        Assert.That(outputs["digest"], Is.EqualTo("sha256:" + new string('a', 64)));
        Assert.That(outputs["promotion_record"], Is.EqualTo("{\"a\":1}\n{\"b\":2}"));
        Assert.That(outputs["pr-url"], Is.EqualTo("https://github.com/acme/gitops/pull/7"));
        Assert.That(_stdout.ToString(), Is.Empty, "outputs go to the file, not the deprecated ::set-output");
    }

    [Test]
    public void Output_with_a_registered_secret_is_refused_and_not_written()
    {
        using var ci = Detect();
        _redactor.Add("s3cr3t-token-value");
        var e = Assert.Throws<PromotionException>(() => ci.SetOutput("token", "Bearer s3cr3t-token-value"));
        Assert.That(e!.Message, Does.Contain("token").And.Not.Contain("s3cr3t"));
        Assert.That(File.Exists(Environment()["GITHUB_OUTPUT"]!), Is.False);
    }

    [Test]
    public void Invalid_output_name_and_missing_output_file_are_clear_errors()
    {
        using var ci = Detect();
        Assert.That(Assert.Throws<PromotionException>(() => ci.SetOutput("bad name", "x"))!.Message, Does.Contain("'bad name'"));
        var env = Environment();
        env.Remove("GITHUB_OUTPUT");
        using var noFile = Detect(env);
        Assert.That(Assert.Throws<PromotionException>(() => noFile.SetOutput("digest", "x"))!.Message, Does.Contain("GITHUB_OUTPUT"));
    }

    [Test]
    public void Summary_is_appended_and_redacted()
    {
        using var ci = Detect();
        _redactor.Add("registry-pass-123");
        ci.AppendSummary("## One");
        ci.AppendSummary("password was registry-pass-123\n");
        Assert.That(File.ReadAllText(Environment()["GITHUB_STEP_SUMMARY"]!), Is.EqualTo("## One\npassword was ***\n"));
    }

    [Test]
    public void Groups_and_annotations_are_workflow_commands_with_escaped_data()
    {
        var gh = (GitHubActionsBuildSystem)Detect();
        using var _ = gh;
        gh.BeginGroup("Copy sha256:abc");
        gh.Warning("Port unavailable: 503\nretry later");
        gh.Error("100% broken");
        gh.Annotation("notice", "done", "Promotion: staging, prod");
        gh.EndGroup();
        Assert.That(Lines(), Is.EqualTo(new[]
        {
            "::group::Copy sha256:abc",
            "::warning::Port unavailable: 503%0Aretry later",
            "::error::100%25 broken",
            "::notice title=Promotion%3A staging%2C prod::done",
            "::endgroup::",
        }));
    }

    [Test]
    public void Annotations_never_carry_a_registered_secret()
    {
        using var ci = Detect();
        _redactor.Add("hunter2-longer");
        ci.Warning("login failed for hunter2-longer");
        Assert.That(Lines().Last(), Is.EqualTo("::warning::login failed for ***"));
    }

    private string[] Lines() => _stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}

/// <summary>
/// Reads a GITHUB_OUTPUT file with the runner's rules (actions/runner SetOutputFileCommand): a line is
/// either name=value or name&lt;&lt;DELIMITER followed by lines up to the delimiter alone on a line.
/// </summary>
internal static class RunnerOutputParser
{
    public static Dictionary<string, string> Parse(string content)
    {
        var result = new Dictionary<string, string>();
        var lines = content.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0) continue;
            var eq = line.IndexOf('=');
            var heredoc = line.IndexOf("<<", StringComparison.Ordinal);
            if (heredoc > 0 && (eq < 0 || heredoc < eq))
            {
                var name = line[..heredoc];
                var delimiter = line[(heredoc + 2)..];
                var value = new List<string>();
                for (i++; ; i++)
                {
                    if (i >= lines.Length) throw new FormatException($"delimiter '{delimiter}' not found");
                    if (lines[i] == delimiter) break;
                    value.Add(lines[i]);
                }
                result[name] = string.Join("\n", value);
            }
            else
            {
                if (eq <= 0) throw new FormatException($"invalid line '{line}'");
                result[line[..eq]] = line[(eq + 1)..];
            }
        }
        return result;
    }
}
