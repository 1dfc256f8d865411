using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>A manifest as served: raw bytes (digest-exact), its media type and Docker-Content-Digest.</summary>
public sealed record ManifestResponse(Digest Digest, string MediaType, byte[] Bytes)
{
    public JsonElement Json => JsonDocument.Parse(Bytes).RootElement;
}

/// <summary>What a manifest HEAD reports.</summary>
public sealed record ManifestHead(Digest Digest, string MediaType, long Size);

/// <summary>
/// A deliberately small distribution API client for setting up and inspecting registry state in tests,
/// independent of the engine under test. Answers 401 challenges: Basic with the given credentials,
/// Bearer by fetching a token from the challenge's realm (Basic credentials to the token server).
/// </summary>
public sealed partial class RegistryTestClient : IDisposable
{
    public const string AllManifestTypes =
        "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " +
        "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

    private readonly HttpClient _http;
    private readonly NetworkCredential? _credentials;
    private readonly ConcurrentDictionary<string, string> _bearerByRepository = new();
    private volatile bool _basicChallenged;

    public RegistryTestClient(Uri baseUri, HttpMessageHandler? handler = null, NetworkCredential? credentials = null)
    {
        BaseUri = baseUri;
        _credentials = credentials;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false }, disposeHandler: true)
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public Uri BaseUri { get; }

    /// <summary>Sends a request built by <paramref name="build"/> (called again for the retry after a challenge).</summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken = default)
    {
        var request = build();
        var repository = RepositoryOf(request.RequestUri!);
        Authorize(request, repository);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        if (challenge is null || _credentials is null && challenge.Scheme == "Basic") return response;
        if (challenge.Scheme == "Basic") _basicChallenged = true;
        else if (challenge.Scheme == "Bearer")
        {
            var token = await FetchTokenAsync(challenge.Parameter ?? "", cancellationToken);
            if (token is null) return response;
            _bearerByRepository[repository ?? ""] = token;
        }
        else return response;
        response.Dispose();
        var retry = build();
        Authorize(retry, repository);
        return await _http.SendAsync(retry, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public async Task<Digest> PushBlobAsync(string repository, byte[] content, CancellationToken cancellationToken = default)
    {
        var digest = Digest.Sha256(content);
        if (await BlobExistsAsync(repository, digest, cancellationToken)) return digest;
        using var start = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, Api($"{repository}/blobs/uploads/")), cancellationToken);
        await EnsureAsync(start, HttpStatusCode.Accepted, $"start upload to {repository}");
        var location = new Uri(BaseUri, start.Headers.Location!);
        var put = new UriBuilder(location);
        put.Query = (put.Query.Length > 1 ? put.Query[1..] + "&" : "") + "digest=" + Uri.EscapeDataString(digest.ToString());
        using var done = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, put.Uri)
        {
            Content = new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        }, cancellationToken);
        await EnsureAsync(done, HttpStatusCode.Created, $"finish upload of {digest} to {repository}");
        return digest;
    }

    /// <summary>PUTs a manifest by tag or digest; returns the registry's Docker-Content-Digest.</summary>
    public async Task<Digest> PushManifestAsync(string repository, string reference, string mediaType, byte[] manifest,
        CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, Api($"{repository}/manifests/{reference}"))
        {
            Content = new ByteArrayContent(manifest) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } },
        }, cancellationToken);
        await EnsureAsync(response, HttpStatusCode.Created, $"put manifest {repository}:{reference}");
        return Digest.Parse(response.Headers.GetValues("Docker-Content-Digest").Single());
    }

    /// <summary>GETs a manifest accepting every OCI/Docker v2 type; null when the registry answers 404.</summary>
    public async Task<ManifestResponse?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Get, repository, reference), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureAsync(response, HttpStatusCode.OK, $"get manifest {repository}:{reference}");
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new ManifestResponse(Digest.Parse(response.Headers.GetValues("Docker-Content-Digest").Single()),
            response.Content.Headers.ContentType?.MediaType ?? "", bytes);
    }

    public async Task<ManifestHead?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, reference), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureAsync(response, HttpStatusCode.OK, $"head manifest {repository}:{reference}");
        return new ManifestHead(Digest.Parse(response.Headers.GetValues("Docker-Content-Digest").Single()),
            response.Content.Headers.ContentType?.MediaType ?? "", response.Content.Headers.ContentLength ?? -1);
    }

    /// <summary>The digest a tag points at, or null when the tag does not exist.</summary>
    public async Task<Digest?> GetManifestDigestAsync(string repository, string reference, CancellationToken cancellationToken = default) =>
        (await HeadManifestAsync(repository, reference, cancellationToken))?.Digest;

    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, Api($"{repository}/blobs/{digest}")), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await EnsureAsync(response, HttpStatusCode.OK, $"head blob {digest} in {repository}");
        return true;
    }

    /// <summary>The blob's bytes (following a redirect to blob storage, without credentials), or null on 404.</summary>
    public async Task<byte[]?> GetBlobAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Api($"{repository}/blobs/{digest}")), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.Redirect or HttpStatusCode.SeeOther)
        {
            using var plain = new HttpClient();
            return await plain.GetByteArrayAsync(new Uri(BaseUri, response.Headers.Location!), cancellationToken);
        }
        await EnsureAsync(response, HttpStatusCode.OK, $"get blob {digest} from {repository}");
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Api($"{repository}/tags/list")), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return [];
        await EnsureAsync(response, HttpStatusCode.OK, $"list tags of {repository}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().Select(t => t.GetString()!).ToList() : [];
    }

    public async Task DeleteManifestAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, Api($"{repository}/manifests/{digest}")), cancellationToken);
        await EnsureAsync(response, HttpStatusCode.Accepted, $"delete manifest {digest} in {repository}");
    }

    private HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, Api($"{repository}/manifests/{reference}"));
        request.Headers.TryAddWithoutValidation("Accept", AllManifestTypes);
        return request;
    }

    private Uri Api(string path) => new(BaseUri, "v2/" + path);

    private void Authorize(HttpRequestMessage request, string? repository)
    {
        if (_bearerByRepository.TryGetValue(repository ?? "", out var token))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        else if (_basicChallenged && _credentials is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicValue(_credentials));
    }

    private async Task<string?> FetchTokenAsync(string challenge, CancellationToken cancellationToken)
    {
        var parameters = ChallengeParameter().Matches(challenge).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        if (!parameters.TryGetValue("realm", out var realm)) return null;
        var query = new StringBuilder();
        if (parameters.TryGetValue("service", out var service)) query.Append("service=").Append(Uri.EscapeDataString(service));
        if (parameters.TryGetValue("scope", out var scope)) query.Append("&scope=").Append(Uri.EscapeDataString(scope));
        if (_credentials is not null) query.Append("&account=").Append(Uri.EscapeDataString(_credentials.UserName));
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + "?" + query.ToString().TrimStart('&'));
        if (_credentials is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicValue(_credentials));
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode) return null;
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.TryGetProperty("token", out var t) ? t.GetString()
            : json.RootElement.GetProperty("access_token").GetString();
    }

    private static string? RepositoryOf(Uri uri)
    {
        var m = RepositoryPath().Match(uri.AbsolutePath);
        return m.Success ? m.Groups[1].Value : null;
    }

    private static string BasicValue(NetworkCredential c) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.UserName}:{c.Password}"));

    private static async Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        if (response.StatusCode == expected) return;
        var body = await response.Content.ReadAsStringAsync();
        throw new HttpRequestException($"{what}: expected {(int)expected}, got {(int)response.StatusCode} {body.Trim()}",
            null, response.StatusCode);
    }

    [GeneratedRegex("(\\w+)=\"([^\"]*)\"")]
    private static partial Regex ChallengeParameter();

    [GeneratedRegex("^/v2/(.+?)/(?:manifests|blobs|tags)/")]
    private static partial Regex RepositoryPath();

    public void Dispose() => _http.Dispose();
}
