using System.Text.Json;
using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>A platform-specific image inside a pushed index.</summary>
public sealed record BuildahPlatformImage(string Platform, Digest Digest, string MediaType);

/// <summary>An index (or Docker manifest list) pushed by buildah, with its children as the registry serves them.</summary>
public sealed record BuildahIndex(string Repository, string Tag, Digest Digest, string MediaType, byte[] ManifestBytes,
    IReadOnlyList<BuildahPlatformImage> Platforms);

/// <summary>
/// Builds tiny real images with buildah (from scratch, vfs driver, storage in a temp dir so parallel
/// tests never share state) and pushes them, including multi-arch indexes made with
/// <c>buildah manifest</c>. Produces exactly what a real build pipeline would put in a registry.
/// </summary>
public sealed class BuildahImages : IAsyncDisposable
{
    private const string Tool = "buildah";
    private readonly string _directory;

    private BuildahImages(string directory) => _directory = directory;

    public static bool IsAvailable => ExternalTool.Exists(Tool);

    /// <summary>Fresh isolated buildah storage; the calling test is ignored (with the reason) when buildah is missing.</summary>
    public static BuildahImages Create()
    {
        if (!IsAvailable) Assert.Ignore("buildah is not installed (apt-get install -y buildah); real multi-arch images cannot be built");
        var directory = Path.Combine(Path.GetTempPath(), $"imgpromo-buildah-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(directory, "context"));
        return new BuildahImages(directory);
    }

    /// <summary>Builds a one-file image for <paramref name="platform"/> (os/arch[/variant]) and returns its local name.</summary>
    public async Task<string> BuildImageAsync(string localName, string platform = "linux/amd64",
        TestImageFormat format = TestImageFormat.Oci, CancellationToken cancellationToken = default)
    {
        var parts = platform.Split('/');
        if (parts.Length is < 2 or > 3) throw new ArgumentException($"platform '{platform}' must be os/arch[/variant]", nameof(platform));
        // Unique content per platform and call: the layers, hence the digests, differ.
        var file = Path.Combine(_directory, "context", $"{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, $"{platform} {Guid.NewGuid()}\n", cancellationToken);
        var container = (await RunAsync(["from", "scratch"], cancellationToken)).Trim();
        await RunAsync(["copy", container, file, "/hello.txt"], cancellationToken);
        List<string> config = ["config", "--os", parts[0], "--arch", parts[1], "--cmd", "/hello", "--label", $"platform={platform}"];
        if (parts.Length == 3) config.AddRange(["--variant", parts[2]]);
        await RunAsync([.. config, container], cancellationToken);
        await RunAsync(["commit", "-q", "--format", format == TestImageFormat.Oci ? "oci" : "docker", container, localName], cancellationToken);
        await RunAsync(["rm", container], cancellationToken);
        return localName;
    }

    /// <summary>Builds and pushes one single-platform image; returns the pushed manifest digest.</summary>
    public async Task<Digest> PushImageAsync(RegistryServer registry, string repository, string tag, string platform = "linux/amd64",
        TestImageFormat format = TestImageFormat.Oci, CancellationToken cancellationToken = default)
    {
        var local = await BuildImageAsync($"localhost/single-{Guid.NewGuid():N}", platform, format, cancellationToken);
        var digestFile = Path.Combine(_directory, $"{Guid.NewGuid():N}.digest");
        await RunAsync(["push", .. RegistryArguments(registry), "--digestfile", digestFile, local,
            $"docker://{registry.Host}/{repository}:{tag}"], cancellationToken);
        return Digest.Parse((await File.ReadAllTextAsync(digestFile, cancellationToken)).Trim());
    }

    /// <summary>
    /// Builds one image per platform (default linux/amd64, linux/arm64, linux/arm/v7), combines them with
    /// <c>buildah manifest create/add</c> and pushes the list and all images (<c>--all</c>).
    /// </summary>
    public async Task<BuildahIndex> PushMultiArchIndexAsync(RegistryServer registry, string repository, string tag,
        IReadOnlyList<string>? platforms = null, TestImageFormat format = TestImageFormat.Oci, CancellationToken cancellationToken = default)
    {
        platforms ??= ["linux/amd64", "linux/arm64", "linux/arm/v7"];
        var list = $"localhost/list-{Guid.NewGuid():N}";
        await RunAsync(["manifest", "create", list], cancellationToken);
        foreach (var platform in platforms)
        {
            var image = await BuildImageAsync($"localhost/img-{Guid.NewGuid():N}", platform, format, cancellationToken);
            await RunAsync(["manifest", "add", list, $"containers-storage:{image}"], cancellationToken);
        }
        var digestFile = Path.Combine(_directory, $"{Guid.NewGuid():N}.digest");
        await RunAsync(["manifest", "push", "--all", "-q", "--format", format == TestImageFormat.Oci ? "oci" : "v2s2",
            .. RegistryArguments(registry), "--digestfile", digestFile, list, $"docker://{registry.Host}/{repository}:{tag}"], cancellationToken);
        var digest = Digest.Parse((await File.ReadAllTextAsync(digestFile, cancellationToken)).Trim());

        using var client = registry.CreateClient();
        var index = await client.GetManifestAsync(repository, digest.ToString(), cancellationToken)
            ?? throw new InvalidOperationException($"buildah reported {digest} but {registry.Host}/{repository} does not serve it");
        var children = index.Json.GetProperty("manifests").EnumerateArray().Select(m =>
        {
            var p = m.GetProperty("platform");
            var platform = p.GetProperty("os").GetString() + "/" + p.GetProperty("architecture").GetString() +
                           (p.TryGetProperty("variant", out var v) ? "/" + v.GetString() : "");
            return new BuildahPlatformImage(platform, Digest.Parse(m.GetProperty("digest").GetString()!), m.GetProperty("mediaType").GetString()!);
        }).ToList();
        return new BuildahIndex(repository, tag, digest, index.MediaType, index.Bytes, children);
    }

    private IEnumerable<string> RegistryArguments(RegistryServer registry)
    {
        if (registry.CaCertificatePath is { } ca)
        {
            // buildah reads CA bundles as *.crt files in a directory.
            var certDir = Path.Combine(_directory, "certs", registry.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(certDir);
            File.Copy(ca, Path.Combine(certDir, "ca.crt"), overwrite: true);
            yield return "--cert-dir";
            yield return certDir;
        }
        else yield return "--tls-verify=false";
        if (registry.Credentials is { } c)
        {
            yield return "--creds";
            yield return $"{c.UserName}:{c.Password}";
        }
    }

    private Task<string> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ExternalTool.RunAsync(Tool,
            ["--root", Path.Combine(_directory, "root"), "--runroot", Path.Combine(_directory, "runroot"), "--storage-driver", "vfs", .. arguments],
            cancellationToken, _directory, TimeSpan.FromSeconds(120));

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return ValueTask.CompletedTask;
    }
}
