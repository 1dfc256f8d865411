using ImagePromotion.Logging;
using ImagePromotion.Tests.Servers.GitHub;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.PullRequests;

/// <summary>A fresh fake GitHub with the repository acme/gitops, and a log to read, for each test.</summary>
public abstract class GitHubServerFixture
{
    private protected GitHubApiServer _server = null!;
    private protected MemoryLog _log = null!;

    [SetUp]
    public async Task StartGitHub()
    {
        _server = await GitHubApiServer.StartAsync();
        _server.AddRepository("acme", "gitops");
        _log = new MemoryLog();
    }

    [TearDown]
    public async Task StopGitHub() => await _server.DisposeAsync();
}
