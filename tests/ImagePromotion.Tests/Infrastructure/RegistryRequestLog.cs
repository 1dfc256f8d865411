using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>One request as the registry's access log recorded it. <see cref="Path"/> includes the query.</summary>
public sealed record RegistryRequest(string Method, string Path, int Status, long Bytes, string UserAgent);

/// <summary>
/// Parses distribution's access log: one Apache combined-format line per request on stdout, e.g.
/// <c>127.0.0.1 - - [23/Nov/2026:11:15:24 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"</c>.
/// The line is written after the response, so a client can see the response first; <see cref="Sync"/>
/// closes that gap with a marker request, whose line comes after every earlier request's.
/// </summary>
internal sealed partial class RegistryRequestLog
{
    public const string MarkerQuery = "__requestlog_marker=";
    private readonly ConcurrentQueue<RegistryRequest> _requests = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _markers = new();

    public IReadOnlyList<RegistryRequest> Snapshot => _requests.ToArray();

    public void Clear() => _requests.Clear();

    public void OnLine(string line)
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
        _requests.Enqueue(new RegistryRequest(m.Groups["method"].Value, path,
            int.Parse(m.Groups["status"].Value, CultureInfo.InvariantCulture),
            long.TryParse(m.Groups["bytes"].Value, out var b) ? b : 0, m.Groups["ua"].Value));
    }

    /// <summary>Sends a marker request through <paramref name="send"/> and waits until its log line arrives.</summary>
    public async Task Sync(Func<string, Task> send, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _markers[id] = tcs;
        await send("/v2/?" + MarkerQuery + id);
        await tcs.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
    }

    [GeneratedRegex("^\\S+ \\S+ \\S+ \\[[^\\]]+\\] \"(?<method>[A-Z]+) (?<path>\\S+) [^\"]+\" (?<status>\\d{3}) (?<bytes>\\d+|-) \"[^\"]*\" \"(?<ua>[^\"]*)\"")]
    private static partial Regex Combined();
}
