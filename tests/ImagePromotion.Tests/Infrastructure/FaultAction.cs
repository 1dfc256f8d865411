using System.Globalization;
using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>What <see cref="FaultProxy"/> does instead of (or to) a normal forward.</summary>
public abstract record FaultAction
{
    /// <summary>Answer with this status and a registry-shaped error body; upstream is not contacted.</summary>
    public static FaultAction Status(int status) => new StatusFault(status, null);
    /// <summary>Answer with this status and this OCI error code (e.g. 403 <c>DENIED</c>, 400 <c>TAG_INVALID</c>).</summary>
    public static FaultAction Status(int status, string code) => new StatusFault(status, null) { Code = code };
    /// <summary>429 with <c>Retry-After: N</c> (delta seconds).</summary>
    public static FaultAction TooManyRequests(TimeSpan retryAfter) =>
        new StatusFault(429, ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
    /// <summary>429 with <c>Retry-After: &lt;HTTP-date&gt;</c>.</summary>
    public static FaultAction TooManyRequests(DateTimeOffset retryAt) =>
        new StatusFault(429, retryAt.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture));
    /// <summary>Forward, send the first <paramref name="bytes"/> bytes of the body, then abort the connection (RST).</summary>
    public static FaultAction ResetAfter(long bytes) => new ResetFault(bytes);
    /// <summary>Forward with the upstream Content-Length but send only <paramref name="bytes"/> bytes, then end the response.</summary>
    public static FaultAction Truncate(long bytes) => new TruncateFault(bytes);
    /// <summary>Forward the body with one byte flipped (at <paramref name="offset"/>; -1 means the middle).</summary>
    public static FaultAction CorruptByte(long offset = -1) => new CorruptFault(offset);
    /// <summary>Wait, then forward normally (the client's timeout decides what happens).</summary>
    public static FaultAction Stall(TimeSpan delay) => new StallFault(delay);
    /// <summary>Fetch from upstream, then answer 307 to the proxy's <see cref="BlobStorageServer"/> holding the bytes.</summary>
    public static FaultAction RedirectToBlobStorage() => new RedirectFault();
    /// <summary>
    /// Forward the request with its body dropped: a registry that ignores the body of the PUT completing an
    /// upload and counts only PATCHed data, as pulp_container did before pulp/pulp_container#1274.
    /// </summary>
    public static FaultAction DropRequestBody() => new DropBodyFault();
    /// <summary>
    /// Tags are immutable: a PUT of a manifest under a tag that already exists upstream is refused with 400 TAG_INVALID
    /// (ECR IMMUTABLE repositories; Harbor and Artifactory immutability rules refuse likewise), even for the same digest.
    /// Use with <c>Inject("PUT", FaultProxy.TagManifestPath, …, FaultProxy.Always)</c>.
    /// </summary>
    public static FaultAction ImmutableTag() => new ImmutableTagFault();
}

public sealed record StatusFault(int StatusCode, string? RetryAfter) : FaultAction
{
    /// <summary>The OCI error code of the body; by default one that fits the status.</summary>
    public string? Code { get; init; }
}
public sealed record ResetFault(long AfterBytes) : FaultAction;
public sealed record TruncateFault(long Bytes) : FaultAction;
public sealed record CorruptFault(long Offset) : FaultAction;
public sealed record StallFault(TimeSpan Delay) : FaultAction;
public sealed record RedirectFault : FaultAction;
public sealed record DropBodyFault : FaultAction;
public sealed record ImmutableTagFault : FaultAction;

/// <summary>
/// A scripted fault: requests whose method (null = any) and path (regex on the path, without query)
/// match are counted; after <see cref="Skip"/> matches, the next <see cref="Times"/> get the fault.
/// </summary>
public sealed class FaultRule
{
    private readonly Regex _path;
    private int _matches;
    private int _hits;

    private readonly Regex? _query;

    internal FaultRule(string? method, string pathPattern, FaultAction action, int times, int skip, string? queryPattern = null)
    {
        _query = queryPattern is null ? null : new Regex(queryPattern, RegexOptions.CultureInvariant);
        Method = method;
        PathPattern = pathPattern;
        Action = action;
        Times = times;
        Skip = skip;
        _path = new Regex(pathPattern, RegexOptions.CultureInvariant);
    }

    public string? Method { get; }
    public string PathPattern { get; }
    public FaultAction Action { get; }
    public int Times { get; }
    public int Skip { get; }
    /// <summary>Requests that matched method and path.</summary>
    public int Matches => Volatile.Read(ref _matches);
    /// <summary>Requests the fault was applied to.</summary>
    public int Hits => Volatile.Read(ref _hits);

    internal bool TryApply(string method, string path, string query = "")
    {
        if (Method is not null && !Method.Equals(method, StringComparison.OrdinalIgnoreCase)) return false;
        if (!_path.IsMatch(path)) return false;
        if (_query is not null && !_query.IsMatch(query)) return false;
        lock (this)
        {
            _matches++;
            if (_matches <= Skip || _hits >= Times) return false;
            _hits++;
            return true;
        }
    }
}
