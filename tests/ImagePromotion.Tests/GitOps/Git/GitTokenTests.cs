using System.Text;
using ImagePromotion.GitOps.Git;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Git;

/// <summary>The token travels as an HTTP header only: never in the URL, argv, .git/config, output or commits.</summary>
[TestFixture]
public sealed class GitTokenTests
{
    private static readonly Digest NewDigest = Digest.Parse("sha256:" + new string('c', 64));
    private BareRemote _remote = null!;
    private GitSmartHttpServer _server = null!;
    private string _token = null!;
    private MemoryLog _log = null!;

    [SetUp]
    public async Task SetUp()
    {
        _remote = new BareRemote();
        _token = "ghs_" + Guid.NewGuid().ToString("N") + "Zz9";
        _server = await GitSmartHttpServer.StartAsync(Path.GetDirectoryName(_remote.BarePath)!, GitCredentials.GitHubTokenUser, _token);
        _log = new MemoryLog();
    }

    [TearDown]
    public async Task TearDown()
    {
        await _server.DisposeAsync();
        _remote.Dispose();
    }

    private string HttpUrl => _server.BaseUrl + "/gitops.git";

    private GitPublishRequest Request(string token, string? url = null) =>
        new(new GitRepositoryOptions(url ?? HttpUrl, "main", _remote.NewPath("work")) { Token = token },
            new GitOpsChange(PromotionBranch.For("staging", "web", NewDigest), "Promote web to staging", "Ada Lovelace", "ada@example.com"));

    [Test]
    public async Task Clones_and_pushes_over_http_with_the_token_sent_only_as_an_authorization_header()
    {
        var request = Request(_token);
        // GIT_TRACE makes every git process, including the remote-http helper, log its argv.
        var trace = _remote.NewPath("git-trace") + ".log";
        var saved = Environment.GetEnvironmentVariable("GIT_TRACE");
        Environment.SetEnvironmentVariable("GIT_TRACE", trace);
        GitPublishResult result;
        try
        {
            result = await new GitPublisher(_log).PublishAsync(request, GitPublisherTests.SetDigest("web", NewDigest), CancellationToken.None);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GIT_TRACE", saved);
        }

        Assert.That(result.Outcome, Is.EqualTo(GitPublishOutcome.Pushed));
        Assert.That(_remote.Head(result.Branch), Is.EqualTo(result.CommitSha), "the push went through git http-backend");
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("x-access-token:" + _token));
        Assert.That(_server.AuthorizationHeaders, Is.Not.Empty.And.All.EqualTo(basic));
        Assert.That(_server.RequestLines, Has.Some.Contains("git-receive-pack"));
        Assert.That(_server.RequestLines, Has.None.Contains(_token));

        Assert.That(File.ReadAllText(trace), Does.Contain("git-remote-http").And.Contain("receive-pack"), "the trace saw the commands");
        Assert.That(File.ReadAllText(trace), Does.Not.Contain(_token).And.Not.Contain(basic["Basic ".Length..]), "no argv carries the token");

        var work = request.Repository.WorkDirectory;
        AssertNoFileContains(work, _token);
        AssertNoFileContains(work, basic["Basic ".Length..]);
        Assert.That(TestGit.Run(work, "remote", "-v"), Does.Contain(HttpUrl).And.Not.Contain(_token));
        Assert.That(TestGit.Run(_remote.BarePath, "log", "--format=%an%ae%cn%ce%B", "--all"), Does.Not.Contain(_token));
        Assert.That(string.Join("\n", _log.Lines), Does.Not.Contain(_token));
        Assert.That(SecretRedactor.Shared.Redact("x " + _token), Is.EqualTo("x ***"));
    }

    [Test]
    public void A_rejected_token_fails_on_one_line_without_revealing_it()
    {
        var wrong = "ghs_wrong" + Guid.NewGuid().ToString("N");
        var request = Request(wrong);

        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(request, GitPublisherTests.SetDigest("web", NewDigest), CancellationToken.None));

        Assert.That(ex!.Message, Does.StartWith("git clone failed (remote " + HttpUrl));
        Assert.That(ex.Message, Does.Not.Contain(wrong).And.Not.Contain("\n"));
        Assert.That(string.Join("\n", _log.Lines), Does.Not.Contain(wrong));
        Assert.That(_server.AuthorizationHeaders, Has.Some.Not.Null, "the token was offered as a header");
        if (Directory.Exists(request.Repository.WorkDirectory)) AssertNoFileContains(request.Repository.WorkDirectory, wrong);
    }

    [Test]
    public void A_remote_url_with_embedded_credentials_is_refused_without_echoing_them()
    {
        var secret = "ghp_embedded" + Guid.NewGuid().ToString("N");
        var url = HttpUrl.Replace("http://", $"http://x-access-token:{secret}@");

        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(Request(_token, url), GitPublisherTests.SetDigest("web", NewDigest), CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("carries credentials in its URL").And.Not.Contain(secret));
        Assert.That(_server.RequestLines, Is.Empty, "nothing was sent");
    }

    [Test]
    public void A_token_for_a_non_http_remote_is_refused()
    {
        var ex = Assert.ThrowsAsync<PromotionException>(() => new GitPublisher(_log).PublishAsync(Request(_token, _remote.Url), GitPublisherTests.SetDigest("web", NewDigest), CancellationToken.None));
        Assert.That(ex!.Message, Does.Contain("is not an http(s) URL").And.Not.Contain(_token));
    }

    private static void AssertNoFileContains(string root, string needle)
    {
        var bytes = Encoding.UTF8.GetBytes(needle);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            Assert.That(File.ReadAllBytes(file).AsSpan().IndexOf(bytes), Is.EqualTo(-1), file + " contains a secret");
    }
}
