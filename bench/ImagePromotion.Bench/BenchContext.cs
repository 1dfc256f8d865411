namespace ImagePromotion.Bench;

public enum Side { Ours, Skopeo }

/// <summary>How the tools reach the registries: directly, or through a proxy adding latency to each request.</summary>
public sealed record Mode(string Name, TimeSpan Latency)
{
    public static readonly Mode Loopback = new("loopback", TimeSpan.Zero);
    public static readonly Mode Latency40 = new("40 ms", TimeSpan.FromMilliseconds(40));
    public bool Proxied => Latency > TimeSpan.Zero;
}

/// <summary>
/// What every scenario shares: two registries (A holds the sources; B is the other registry of cross-registry
/// copies), a latency proxy in front of each, the test images, and how to invoke each tool.
/// </summary>
public sealed class BenchContext(string repoRoot, string workDirectory, string consolePath, bool quick,
    BenchRegistry a, BenchRegistry b, LatencyProxy proxyA, LatencyProxy proxyB, TestImages images)
{
    public string RepoRoot { get; } = repoRoot;
    public string WorkDirectory { get; } = workDirectory;
    public bool Quick { get; } = quick;
    public BenchRegistry A { get; } = a;
    public BenchRegistry B { get; } = b;
    public TestImages Images { get; } = images;
    /// <summary>skopeo's blob-info cache for scenarios that keep it between runs (as a CI runner's would be).</summary>
    public string SharedSkopeoCache { get; } = Directory.CreateDirectory(Path.Combine(workDirectory, "skopeo-cache-shared")).FullName;

    public string HostA(Mode mode) => mode.Proxied ? proxyA.Host : A.Host;
    public string HostB(Mode mode) => mode.Proxied ? proxyB.Host : B.Host;

    /// <summary>The console host: promote-copy FROM TO [FROM TO ...]; every registry it talks to is declared plain HTTP.</summary>
    public Command Ours(Mode mode, params string[] pairs) =>
        new([consolePath, .. pairs, $"--insecure={HostA(mode)}", $"--insecure={HostB(mode)}"]);

    /// <summary>
    /// skopeo copy with its blob-info cache in <paramref name="cacheDirectory"/>. As root, skopeo keeps that
    /// cache in /var/lib/containers/cache whatever HOME says, so the directory is bind-mounted there in a
    /// private mount namespace (unshare + exec: the measured process is still skopeo itself).
    /// </summary>
    public Command Skopeo(string from, string to, string cacheDirectory, bool all = false)
    {
        string[] copy = ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", .. (all ? new[] { "--all" } : []), $"docker://{from}", $"docker://{to}"];
        if (Environment.UserName == "root")
            return new(["unshare", "-m", "sh", "-c", "mount --bind \"$0\" /var/lib/containers/cache && exec skopeo \"$@\"", cacheDirectory, .. copy]);
        return new(["skopeo", .. copy], new Dictionary<string, string> { ["HOME"] = cacheDirectory, ["XDG_DATA_HOME"] = cacheDirectory });
    }

    public string FreshSkopeoCache() => Directory.CreateDirectory(Path.Combine(WorkDirectory, $"skopeo-cache-{Guid.NewGuid():N}")).FullName;
}
