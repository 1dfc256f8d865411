using NUnit.Framework;
namespace ImagePromotion.Tests.Ci;

/// <summary>A temporary directory for one test, removed afterwards.</summary>
internal sealed class CiSandbox : IDisposable
{
    public CiSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "ci-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The repository root, found from the test output directory, for tests of the repository's own files.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "ImagePromotion.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("ImagePromotion.slnx not found above " + TestContext.CurrentContext.TestDirectory);
    }

    public static string File(string relative) => System.IO.Path.Combine(Path, relative);
}
