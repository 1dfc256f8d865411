namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>A throw-away repository folder (and a sibling "outside" folder) for file-level tests.</summary>
internal sealed class ScratchRepository : IDisposable
{
    private readonly string _base = Path.Combine(Path.GetTempPath(), "manifests-" + Guid.NewGuid().ToString("N"));

    public ScratchRepository()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
    }

    public string Root => Path.Combine(_base, "repo");
    public string Outside => Path.Combine(_base, "outside");

    public string Write(string relative, byte[] content)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public string Write(string relative, string content) => Write(relative, System.Text.Encoding.UTF8.GetBytes(content));

    public void Dispose()
    {
        try { Directory.Delete(_base, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
