using ImagePromotion.Logging;
using NUnit.Framework;

namespace ImagePromotion.Tests.GitOps.Git;

/// <summary>A fresh seeded bare remote (see <see cref="BareRemote"/>), and a log to read, for each test.</summary>
public abstract class BareRemoteFixture
{
    private protected BareRemote _remote = null!;
    private protected MemoryLog _log = null!;

    [SetUp]
    public void CreateRemote()
    {
        _remote = new BareRemote();
        _log = new MemoryLog();
    }

    [TearDown]
    public void DeleteRemote() => _remote.Dispose();
}
