using ImagePromotion.Ci;
using ImagePromotion.Logging;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

[TestFixture]
public sealed class LocalBuildSystemTests
{
    [TestCase("true", typeof(GitHubActionsBuildSystem))]
    [TestCase("TRUE", typeof(GitHubActionsBuildSystem))]
    [TestCase("false", typeof(LocalBuildSystem))]
    [TestCase(null, typeof(LocalBuildSystem))]
    public void GitHub_is_detected_from_GITHUB_ACTIONS(string? value, Type expected)
    {
        using var ci = BuildSystemDetector.Detect(new Dictionary<string, string?> { ["GITHUB_ACTIONS"] = value }, new BuildSystemOptions { Redactor = new SecretRedactor(), Stdout = TextWriter.Null });
        Assert.That(ci, Is.TypeOf(expected));
    }

    [Test]
    public void CodeBuild_is_detected_from_CODEBUILD_BUILD_ID_and_empty_means_unset()
    {
        var options = new BuildSystemOptions { Stdout = TextWriter.Null };
        using var codebuild = BuildSystemDetector.Detect(new Dictionary<string, string?> { ["CODEBUILD_BUILD_ID"] = "p:1" }, options);
        using var local = BuildSystemDetector.Detect(new Dictionary<string, string?> { ["CODEBUILD_BUILD_ID"] = "" }, options);
        Assert.That(codebuild, Is.TypeOf<CodeBuildBuildSystem>());
        Assert.That(local, Is.TypeOf<LocalBuildSystem>());
    }

    [Test]
    public void Current_environment_is_read_from_the_process()
    {
        var env = BuildSystemDetector.CurrentEnvironment();
        Assert.That(env.ContainsKey("PATH"), Is.True);
    }

    [Test]
    public void Local_identity_prefers_git_config_then_USER()
    {
        var env = new Dictionary<string, string?> { ["USER"] = "alice" };
        using var fromGit = BuildSystemDetector.Detect(env, new BuildSystemOptions { GitUserName = "Alice Liddell", GitUserEmail = "alice@example.com", GitCommit = "abc", GitBranch = "feature/x" });
        using var fromUser = BuildSystemDetector.Detect(env, new BuildSystemOptions { GitUserName = "  " });
        using var nobody = BuildSystemDetector.Detect(new Dictionary<string, string?>());

        Assert.That(fromGit.Identity.ToString(), Is.EqualTo("Alice Liddell <alice@example.com>"));
        Assert.That(fromGit.Commit, Is.EqualTo("abc"));
        Assert.That(fromGit.Branch, Is.EqualTo("feature/x"));
        Assert.That(fromGit.RunUrl, Is.Null);
        Assert.That(fromUser.Identity.Actor, Is.EqualTo("alice"));
        Assert.That(nobody.Identity.Actor, Is.EqualTo("unknown"));
    }

    [Test]
    public void Local_outputs_and_summary_are_files_in_the_working_directory()
    {
        using var sandbox = new CiSandbox();
        var stdout = new StringWriter();
        using var ci = (LocalBuildSystem)BuildSystemDetector.Detect(new Dictionary<string, string?>(), new BuildSystemOptions { WorkingDirectory = sandbox.Root, Stdout = stdout });
        ci.SetOutput("digest", "sha256:9");
        ci.AppendSummary("# Promoted");
        ci.Warning("dry run");
        Assert.That(File.ReadAllText(sandbox.PathOf(".artifacts/exported-variables.env")), Is.EqualTo("DIGEST=sha256:9\n"));
        Assert.That(File.ReadAllText(sandbox.PathOf(".artifacts/summary.md")), Is.EqualTo("# Promoted\n"));
        Assert.That(stdout.ToString().Trim(), Is.EqualTo("warning: dry run"));
        Assert.Throws<PromotionException>(() => ci.SetOutput("bad name", "x"));
    }
}
