using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>
/// A real CNCF distribution registry (2.8, <c>docker-registry serve</c>) on 127.0.0.1 with its own
/// temp storage, optionally behind Basic auth, token auth and/or TLS. Requests are counted from the
/// registry's own access log, so counts are what the registry saw, not what a client meant to send.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private const string Executable = "docker-registry";
    private static readonly ConcurrentDictionary<int, Process> Live = new();
    private readonly RegistryRequestLog _log = new();
    private readonly ConcurrentQueue<string> _output = new();
    private readonly HttpClient _probe;
    private readonly string _httpSecret = Guid.NewGuid().ToString("N");
    private readonly TestCertificateAuthority? _ca;
    private Process? _process;

    static RegistryServer()
    {
        // A crashed or aborted test run must not leave registries listening.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Live.Values) try { p.Kill(true); } catch (InvalidOperationException) { }
        };
    }

    private RegistryServer(RegistryServerOptions options, string directory, TestCertificateAuthority? ca, TokenServer? tokenServer)
    {
        Options = options;
        Directory = directory;
        _ca = ca;
        TokenServer = tokenServer;
        _probe = new HttpClient(CreateHttpHandler()) { Timeout = TimeSpan.FromSeconds(5) };
    }

    public RegistryServerOptions Options { get; }
    /// <summary>Temp directory holding config, storage, htpasswd; deleted on dispose.</summary>
    public string Directory { get; }
    public string StorageDirectory => Path.Combine(Directory, "storage");
    public string ConfigPath => Path.Combine(Directory, "config.yml");
    public int Port { get; private set; }
    /// <summary><c>127.0.0.1:PORT</c>, the registry part of an image reference.</summary>
    public string Host => $"127.0.0.1:{Port}";
    /// <summary><c>http(s)://127.0.0.1:PORT/</c></summary>
    public Uri BaseUri => new($"{(Options.Tls ? "https" : "http")}://{Host}/");
    public bool UsesTls => Options.Tls;
    /// <summary>PEM CA bundle that signed the registry certificate (null without TLS).</summary>
    public string? CaCertificatePath => _ca?.CaCertificatePath;
    public X509Certificate2? CaCertificate => _ca?.CaCertificate;
    /// <summary>The token server this registry trusts (null unless <see cref="RegistryAuthMode.Token"/>).</summary>
    public TokenServer? TokenServer { get; }
    /// <summary>A valid user (first of the configured users), or null for an anonymous registry.</summary>
    public NetworkCredential? Credentials => Options.Auth switch
    {
        RegistryAuthMode.Basic => First(Options.Users),
        RegistryAuthMode.Token => First(Options.Token.Users),
        _ => null,
    };
    public bool IsRunning => _process is { HasExited: false };
    /// <summary>The registry's own log (stderr and stdout), for diagnosing a failing test.</summary>
    public string ProcessOutput => string.Join('\n', _output);

    /// <summary>Requests the registry logged since start or the last reset (waits for pending log lines).</summary>
    public IReadOnlyList<RegistryRequest> Requests { get { SyncLog(); return _log.Snapshot; } }
    public int RequestCount => Requests.Count;

    public async Task<IReadOnlyList<RegistryRequest>> GetRequestsAsync(CancellationToken cancellationToken = default)
    {
        await SyncLogAsync(cancellationToken);
        return _log.Snapshot;
    }

    /// <summary>Forgets logged requests; lines of requests answered before the call are not counted later.</summary>
    public void ResetRequestLog() { SyncLog(); _log.Clear(); }

    public async Task ResetRequestLogAsync(CancellationToken cancellationToken = default)
    {
        await SyncLogAsync(cancellationToken);
        _log.Clear();
    }

    /// <summary>A handler that trusts the test CA (if any) and does not follow redirects.</summary>
    public SocketsHttpHandler CreateHttpHandler() => TestCertificateAuthority.CreateTrustingHandler(_ca?.CaCertificate);

    public HttpClient CreateHttpClient() => new(CreateHttpHandler()) { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A raw registry API client, by default authenticated as <see cref="Credentials"/>.</summary>
    public RegistryTestClient CreateClient(NetworkCredential? credentials = null) =>
        new(BaseUri, CreateHttpHandler(), credentials ?? Credentials);

    /// <summary><c>Host/repository:tag</c></summary>
    public string Reference(string repository, string? tagOrDigest = null) =>
        tagOrDigest is null ? $"{Host}/{repository}"
        : tagOrDigest.Contains(':') ? $"{Host}/{repository}@{tagOrDigest}" : $"{Host}/{repository}:{tagOrDigest}";

    public static async Task<RegistryServer> StartAsync(RegistryServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RegistryServerOptions();
        if (!ExternalTool.Exists(Executable))
            throw new InvalidOperationException("docker-registry is not installed: apt-get install -y docker-registry apache2-utils openssl");
        var directory = Path.Combine(Path.GetTempPath(), $"imgpromo-registry-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "storage"));
        var ca = !options.Tls ? null
            : options.OwnCertificateAuthority ? await TestCertificateAuthority.CreateAsync(Path.Combine(directory, "ca"), cancellationToken)
            : await TestCertificateAuthority.SharedAsync(cancellationToken);
        var token = options.Auth == RegistryAuthMode.Token ? await TokenServer.StartAsync(options.Token, cancellationToken) : null;
        var server = new RegistryServer(options, directory, ca, token);
        try
        {
            await server.WriteAuthFilesAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                server.Port = FreePort.Pick();
                if (await server.LaunchAsync(cancellationToken)) return server;
                if (attempt == 5) throw new InvalidOperationException($"registry could not bind a port:\n{server.ProcessOutput}");
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the registry process (as a crash would); storage is kept.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null) return;
        _process = null;
        Live.TryRemove(process.Id, out _);
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>Kills the registry and starts it again on the same port with the same storage and secret.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync();
        for (var attempt = 1; ; attempt++)
        {
            if (await LaunchAsync(cancellationToken)) return;
            if (attempt == 10) throw new InvalidOperationException($"registry could not rebind port {Port}:\n{ProcessOutput}");
            await Task.Delay(200, cancellationToken);
        }
    }

    private async Task WriteAuthFilesAsync(CancellationToken cancellationToken)
    {
        if (Options.Auth == RegistryAuthMode.Basic)
        {
            var lines = new StringBuilder();
            // Registry 2.8 accepts only bcrypt entries, hence -B.
            foreach (var (user, password) in Options.Users)
                lines.Append((await ExternalTool.RunAsync("htpasswd", ["-Bbn", user, password], cancellationToken)).Trim()).Append('\n');
            await File.WriteAllTextAsync(Path.Combine(Directory, "htpasswd"), lines.ToString(), cancellationToken);
        }
        if (TokenServer is not null)
            await File.WriteAllTextAsync(Path.Combine(Directory, "token-root.pem"), TokenServer.SigningCertificatePem, cancellationToken);
    }

    private string ConfigYaml()
    {
        var yaml = new StringBuilder($"""
            version: 0.1
            log:
              level: info
              formatter: text
              accesslog:
                disabled: false
            storage:
              filesystem:
                rootdirectory: {StorageDirectory}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{Port}
              secret: {_httpSecret}

            """);
        if (_ca is not null)
            yaml.Append($"""
                  tls:
                    certificate: {_ca.ServerCertificatePath}
                    key: {_ca.ServerKeyPath}

                """);
        if (Options.AllowedLayerUrls.Count > 0)
            yaml.Append("validation:\n  manifests:\n    urls:\n      allow:\n"
                + string.Concat(Options.AllowedLayerUrls.Select(u => $"        - '{u}'\n")));
        if (Options.Auth == RegistryAuthMode.Basic)
            yaml.Append($"""
                auth:
                  htpasswd:
                    realm: test-registry
                    path: {Path.Combine(Directory, "htpasswd")}

                """);
        if (TokenServer is not null)
            yaml.Append($"""
                auth:
                  token:
                    realm: {TokenServer.Realm}
                    service: {Options.Token.Service}
                    issuer: {Options.Token.Issuer}
                    rootcertbundle: {Path.Combine(Directory, "token-root.pem")}

                """);
        return yaml.ToString();
    }

    /// <summary>Starts the process and waits for <c>GET /v2/</c>; false when the port was taken.</summary>
    private async Task<bool> LaunchAsync(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(ConfigPath, ConfigYaml(), cancellationToken);
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            ArgumentList = { "serve", ConfigPath },
        };
        var process = new Process { StartInfo = info };
        var portTaken = false;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _log.OnLine(e.Data); Remember(e.Data); } };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            portTaken |= e.Data.Contains("address already in use", StringComparison.Ordinal);
            Remember(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Live[process.Id] = process;

        var deadline = DateTime.UtcNow + Options.StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken);
                _process = null;
                Live.TryRemove(process.Id, out _);
                if (portTaken) return false;
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode}:\n{ProcessOutput}");
            }
            try
            {
                using var response = await _probe.GetAsync(new Uri(BaseUri, "v2/"), cancellationToken);
                return true; // 200 or 401: either way the registry is serving
            }
            catch (HttpRequestException) { await Task.Delay(50, cancellationToken); }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { }
        }
        await StopAsync();
        throw new TimeoutException($"docker-registry did not answer GET /v2/ within {Options.StartTimeout}:\n{ProcessOutput}");
    }

    private void Remember(string line)
    {
        _output.Enqueue(line);
        while (_output.Count > 400) _output.TryDequeue(out _);
    }

    private void SyncLog() => SyncLogAsync(CancellationToken.None).GetAwaiter().GetResult();

    private Task SyncLogAsync(CancellationToken cancellationToken) =>
        !IsRunning ? Task.CompletedTask : _log.Sync(async path =>
        {
            using var response = await _probe.GetAsync(new Uri(BaseUri, path), cancellationToken);
        }, cancellationToken);

    private static NetworkCredential? First(IReadOnlyDictionary<string, string> users) =>
        users.Select(u => new NetworkCredential(u.Key, u.Value)).FirstOrDefault();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _probe.Dispose();
        if (TokenServer is not null) await TokenServer.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
