using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ImagePromotion.Bench;

/// <summary>One request as the registry's access log recorded it (path with its query, URL-encoded).</summary>
public sealed record LoggedRequest(string Method, string Path, int Status);

/// <summary>
/// A distribution registry (<c>docker-registry serve</c>) on a free 127.0.0.1 port with its own storage.
/// Requests are counted from its access log (one combined-format line per request on stdout), so the
/// figures are what the registry saw, whichever client sent them.
/// </summary>
public sealed partial class BenchRegistry : IAsyncDisposable
{
    private const string MarkerQuery = "__bench_marker=";
    private readonly ConcurrentQueue<LoggedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _markers = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private Process _process = null!;

    private BenchRegistry(string name, string directory) { Name = name; Directory = directory; }

    public string Name { get; }
    public string Directory { get; }
    public string Storage => Path.Combine(Directory, "storage");
    public int Port { get; private set; }
    /// <summary><c>127.0.0.1:PORT</c></summary>
    public string Host => $"127.0.0.1:{Port}";

    public static async Task<BenchRegistry> StartAsync(string name, string workDirectory, CancellationToken ct)
    {
        var registry = new BenchRegistry(name, Path.Combine(workDirectory, "registry-" + name));
        System.IO.Directory.CreateDirectory(registry.Storage);
        for (var attempt = 1; ; attempt++)
        {
            registry.Port = FreePort();
            if (await registry.LaunchAsync(ct)) return registry;
            if (attempt == 5) throw new InvalidOperationException($"registry {name} could not bind a port");
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private async Task<bool> LaunchAsync(CancellationToken ct)
    {
        var config = Path.Combine(Directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              formatter: text
              accesslog:
                disabled: false
            storage:
              filesystem:
                rootdirectory: {Storage}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{Port}
              secret: {Guid.NewGuid():N}

            """, ct);
        var info = new ProcessStartInfo("docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        var process = new Process { StartInfo = info };
        var portTaken = false;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) OnLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data?.Contains("address already in use") == true) portTaken = true; };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                if (portTaken) return false;
                throw new InvalidOperationException($"docker-registry {Name} exited with {process.ExitCode}");
            }
            try
            {
                using var r = await _http.GetAsync($"http://{Host}/v2/", ct);
                await ResetAsync(ct);
                return true;
            }
            catch (HttpRequestException) { await Task.Delay(50, ct); }
        }
        throw new TimeoutException($"docker-registry {Name} did not start");
    }

    private void OnLine(string line)
    {
        var m = Combined().Match(line);
        if (!m.Success) return;
        var path = m.Groups["path"].Value;
        var marker = path.IndexOf(MarkerQuery, StringComparison.Ordinal);
        if (marker >= 0)
        {
            if (_markers.TryRemove(path[(marker + MarkerQuery.Length)..], out var tcs)) tcs.TrySetResult();
            return;
        }
        _requests.Enqueue(new LoggedRequest(m.Groups["method"].Value, path, int.Parse(m.Groups["status"].Value)));
    }

    /// <summary>
    /// Every request answered so far, then forgets them. The log line is written after the response, so a
    /// marker request is sent first and its line awaited: every earlier line is in by then.
    /// </summary>
    public async Task<IReadOnlyList<LoggedRequest>> TakeAsync(CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString("N");
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _markers[id] = tcs;
        using (await _http.GetAsync($"http://{Host}/v2/?{MarkerQuery}{id}", ct)) { }
        await tcs.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var list = new List<LoggedRequest>();
        while (_requests.TryDequeue(out var r)) list.Add(r);
        return list;
    }

    public Task ResetAsync(CancellationToken ct) => TakeAsync(ct);

    /// <summary>Empties the storage (repositories and blobs). The filesystem driver keeps no cache, so the registry serves the empty state at once.</summary>
    public void Wipe()
    {
        var root = Path.Combine(Storage, "docker");
        if (System.IO.Directory.Exists(root)) System.IO.Directory.Delete(root, recursive: true);
    }

    /// <summary>Removes one repository's links (its blobs stay in the shared blob store).</summary>
    public void DeleteRepository(string repository)
    {
        var dir = Path.Combine(Storage, "docker", "registry", "v2", "repositories", repository);
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
    }

    public async ValueTask DisposeAsync()
    {
        try { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _http.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }

    [GeneratedRegex("^\\S+ \\S+ \\S+ \\[[^\\]]+\\] \"(?<method>[A-Z]+) (?<path>\\S+) [^\"]+\" (?<status>\\d{3}) ")]
    private static partial Regex Combined();
}
