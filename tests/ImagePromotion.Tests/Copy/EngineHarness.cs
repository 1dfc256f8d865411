using ImagePromotion.Copy;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Auth;
using ImagePromotion.Registry.Transport;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Copy;

/// <summary>
/// The engine as a Cake script builds it: one transport (with its own credential store over an explicit
/// environment) and one copier. Retries are fast so failure cases stay bounded in time. The Docker config
/// points at an empty directory, so a developer's own ~/.docker never takes part.
/// </summary>
internal sealed class EngineHarness : IDisposable
{
    public EngineHarness(IReadOnlyDictionary<string, string?>? environment = null, TransportOptions? options = null,
        CopyOptions? defaults = null)
    {
        Defaults = defaults ?? new CopyOptions();
        var env = new Dictionary<string, string?>
        {
            ["DOCKER_CONFIG"] = Path.Combine(Path.GetTempPath(), "imgpromo-no-docker-config-" + Guid.NewGuid().ToString("N")),
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) env[k] = v;
        Transport = new RegistryTransport(options ?? FastRetries, new CredentialStore(env));
        Copier = new ImageCopier(Transport, Log);
    }

    public static TransportOptions FastRetries { get; } = new()
    {
        MaxAttempts = 3,
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(100),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ResponseHeadersTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>The copy options used when a test passes none.</summary>
    public CopyOptions Defaults { get; }
    public MemoryLog Log { get; } = new();
    public RegistryTransport Transport { get; }
    public ImageCopier Copier { get; }

    public Task<CopyResult> CopyAsync(string from, string to, CopyOptions? options = null, CancellationToken ct = default) =>
        Copier.CopyAsync(ImageReference.Parse(from), ImageReference.Parse(to), options ?? Defaults, ct);

    public Task<CopyPlan> PlanAsync(RegistryServer registry, string repository, string reference, string to, CopyOptions? options = null,
        CancellationToken ct = default) =>
        Copier.PlanAsync(new RegistrySource(Copier.Client(registry.Host), repository), reference, ImageReference.Parse(to),
            options ?? new CopyOptions(), ct);

    public void Dispose() => Transport.Dispose();

    /// <summary>Credentials as CI passes them: <c>REGISTRY_&lt;HOST&gt;_USERNAME/PASSWORD</c>.</summary>
    public static Dictionary<string, string?> Credentials(RegistryServer registry, string user, string password) =>
        Credentials(registry.Host, user, password);

    public static Dictionary<string, string?> Credentials(string host, string user, string password)
    {
        var prefix = CredentialStore.EnvironmentPrefix(host);
        return new Dictionary<string, string?> { [prefix + "USERNAME"] = user, [prefix + "PASSWORD"] = password };
    }
}

internal static class AccessLog
{
    /// <summary>Requests that change registry state; a dry run or an up-to-date copy must send none.</summary>
    public static IReadOnlyList<RegistryRequest> Writes(this IEnumerable<RegistryRequest> requests) =>
        requests.Where(r => r.Method is "PUT" or "POST" or "PATCH" or "DELETE").ToList();

    public static string Show(this IEnumerable<RegistryRequest> requests) =>
        string.Join("; ", requests.Select(r => $"{r.Method} {r.Path} {r.Status}"));
}
