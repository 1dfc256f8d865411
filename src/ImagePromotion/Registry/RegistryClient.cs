using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Registry;

/// <summary>
/// The OCI distribution API for one registry host: manifests and blobs by repository. Every call states
/// the token scope it needs; errors come back as one line naming the registry, the repository and the fix.
/// </summary>
public sealed class RegistryClient(RegistryTransport transport, string registry)
{
    public string Registry { get; } = registry;
    private readonly Uri _base = new($"https://{(registry == ImageReference.DockerHub ? "registry-1.docker.io" : registry)}/v2/");

    /// <summary>The digest, media type and size a tag or digest resolves to, or null when it does not exist.</summary>
    public async Task<Descriptor?> HeadManifestAsync(string repository, string reference, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Head, $"{repository}/manifests/{reference}", RequestScopes.Pull(repository));
        request.Headers.Accept.ParseAdd(string.Join(", ", MediaTypes.Manifests));
        using var response = await SendAsync(request, $"look up {repository}:{reference}", ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, $"look up {repository}:{reference}", repository, ct).ConfigureAwait(false);
        var digestHeader = Header(response, "Docker-Content-Digest");
        if (!Digest.TryParse(digestHeader, out var digest))
        {
            // Some registries omit the header on HEAD; the body tells the truth.
            var m = await GetManifestAsync(repository, reference, null, ct).ConfigureAwait(false);
            return m?.ToDescriptor();
        }
        return new Descriptor(response.Content.Headers.ContentType?.MediaType ?? "", digest, response.Content.Headers.ContentLength ?? -1);
    }

    public async Task<Manifest?> GetManifestAsync(string repository, string reference, Digest? expected, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, $"{repository}/manifests/{reference}", RequestScopes.Pull(repository));
        request.Headers.Accept.ParseAdd(string.Join(", ", MediaTypes.Manifests));
        var what = $"read manifest {Registry}/{repository}:{reference}";
        using var response = await SendAsync(request, what, ct, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength > Manifest.MaxBytes)
            throw new PromotionException($"manifest {Registry}/{repository}:{reference} is {response.Content.Headers.ContentLength} bytes, over the {Manifest.MaxBytes}-byte limit: refusing to copy it");
        var bytes = await ReadLimitedAsync(response.Content, Manifest.MaxBytes, $"{Registry}/{repository}:{reference}", ct).ConfigureAwait(false);
        // A digest reference must be served byte for byte; a tag is checked against the registry's own header.
        var check = expected ?? (Digest.TryParse(reference, out var asked) ? asked : (Digest?)null);
        // Before parsing: bytes damaged on the way are a digest mismatch, not a "not valid JSON" manifest.
        if (check is null && Digest.TryParse(Header(response, "Docker-Content-Digest"), out var served) && served.Algorithm == "sha256"
            && Digest.Sha256(bytes) is var actual && served != actual)
            throw new PromotionException($"manifest {Registry}/{repository}:{reference}: the registry says {served} but the bytes hash to {actual}: refusing to copy it");
        return Manifest.Parse(bytes, response.Content.Headers.ContentType?.MediaType, $"{Registry}/{repository}:{reference}", check);
    }

    /// <summary>Pushes the manifest bytes unchanged; returns the digest the registry computed.</summary>
    public async Task<Digest> PutManifestAsync(string repository, string reference, Manifest manifest, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Put, $"{repository}/manifests/{reference}", RequestScopes.Push(repository));
        request.Content = new ByteArrayContent(manifest.Bytes);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
        var what = $"write manifest {Registry}/{repository}:{reference}";
        using var response = await SendAsync(request, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
        return Digest.TryParse(Header(response, "Docker-Content-Digest"), out var d) ? d : manifest.Digest;
    }

    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Head, $"{repository}/blobs/{digest}", RequestScopes.Pull(repository));
        var what = $"check blob {digest} in {Registry}/{repository}";
        using var response = await SendAsync(request, what, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Asks the registry to link a blob from another repository. 201: done, nothing uploaded.
    /// 202: the registry declined (another storage backend, no pull access to the source) but opened
    /// an upload session, whose location is returned so the caller uploads there instead of asking again.
    /// </summary>
    public async Task<(bool Mounted, Uri? UploadLocation)> MountBlobAsync(string repository, Digest digest, string fromRepository, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post,
            $"{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}",
            RequestScopes.Push(repository), RequestScopes.Pull(fromRepository));
        var what = $"mount blob {digest} from {fromRepository} into {Registry}/{repository}";
        using var response = await SendAsync(request, what, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created) return (true, null);
        await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
        return (false, Location(response));
    }

    public async Task<Uri> StartUploadAsync(string repository, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post, $"{repository}/blobs/uploads/", RequestScopes.Push(repository));
        var what = $"start a blob upload to {Registry}/{repository}";
        using var response = await SendAsync(request, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
        return Location(response) ?? throw new PromotionException($"registry {Registry} opened an upload for {repository} without a Location header: the registry is not OCI-conformant");
    }

    /// <summary>
    /// Completes an upload with one streamed PUT. The content is not replayable, so a failure here is
    /// retried by the caller from a fresh source stream and a fresh upload session.
    /// </summary>
    public async Task CompleteUploadAsync(string repository, Uri location, Digest digest, HttpContent content, CancellationToken ct)
    {
        var ub = new UriBuilder(location);
        var digestParam = "digest=" + Uri.EscapeDataString(digest.ToString());
        ub.Query = string.IsNullOrEmpty(ub.Query) || ub.Query == "?" ? digestParam : ub.Query.TrimStart('?') + "&" + digestParam;
        using var request = new HttpRequestMessage(HttpMethod.Put, ub.Uri) { Content = content };
        request.WithScopes(RequestScopes.Push(repository));
        var what = $"upload blob {digest} to {Registry}/{repository}";
        using var response = await SendAsync(request, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
    }

    /// <summary>Opens a blob for streaming; the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> GetBlobAsync(string repository, Digest digest, CancellationToken ct)
    {
        var request = Request(HttpMethod.Get, $"{repository}/blobs/{digest}", RequestScopes.Pull(repository));
        var what = $"read blob {digest} from {Registry}/{repository}";
        var response = await SendAsync(request, what, ct, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new PromotionException($"blob {digest} is missing from {Registry}/{repository}: the source image is incomplete; push it again");
        }
        await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
        return response;
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken ct)
    {
        var tags = new List<string>();
        string? next = $"{repository}/tags/list?n=1000";
        while (next is not null)
        {
            using var request = Request(HttpMethod.Get, next, RequestScopes.Pull(repository));
            var what = $"list tags of {Registry}/{repository}";
            using var response = await SendAsync(request, what, ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return tags;
            await EnsureSuccessAsync(response, what, repository, ct).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
            if (doc.RootElement.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array)
                tags.AddRange(t.EnumerateArray().Select(x => x.GetString()!).Where(x => x is not null));
            next = NextLink(response);
        }
        return tags;
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        // Link: </v2/app/tags/list?n=1000&last=x>; rel="next"
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links)
        {
            var start = link.IndexOf('<'); var end = link.IndexOf('>');
            if (start >= 0 && end > start && link.Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                var path = link[(start + 1)..end];
                return path.StartsWith("/v2/", StringComparison.Ordinal) ? path[4..] : path;
            }
        }
        return null;
    }

    private HttpRequestMessage Request(HttpMethod method, string relative, params string[] scopes) =>
        new HttpRequestMessage(method, new Uri(_base, relative)).WithScopes(scopes);

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            var response = await transport.Http.SendAsync(request, ct).ConfigureAwait(false);
            if (completion == HttpCompletionOption.ResponseContentRead && request.Method != HttpMethod.Head)
                await response.Content.LoadIntoBufferAsync(ct).ConfigureAwait(false);
            return response;
        }
        catch (HttpRequestException ex)
        {
            throw new PromotionException($"cannot reach registry {Registry} to {what} ({Innermost(ex)}): check that it is running and the address is right", ex) { Transient = true };
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new PromotionException($"registry {Registry} did not answer in time to {what}: check the network or try again", ex) { Transient = true };
        }
    }

    private static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex.Message.TrimEnd('.');
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, string repository, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var detail = await ErrorDetailAsync(response, ct).ConfigureAwait(false);
        var credential = transport.Credentials.Get(Registry);
        var fix = response.StatusCode switch
        {
            // Token registries answer a missing permission with 401 too; the challenge's error tells it from a bad password.
            HttpStatusCode.Unauthorized when !credential.IsAnonymous && InsufficientScope(response) is { } scope =>
                $"the {credential} may not {ScopeAction(scope, repository)} (the token service granted less than '{scope}'): grant that access or use other credentials",
            HttpStatusCode.Unauthorized => credential.IsAnonymous
                ? $"no credentials were found for {Registry}: set {Auth.CredentialStore.EnvironmentPrefix(Registry)}USERNAME and {Auth.CredentialStore.EnvironmentPrefix(Registry)}PASSWORD, or run docker login {Registry}"
                : $"the {credential} were refused: check the user name and password",
            HttpStatusCode.Forbidden => $"the {(credential.IsAnonymous ? "anonymous user" : credential.ToString())} may not do this in {repository}: grant access or use other credentials",
            HttpStatusCode.TooManyRequests => "the registry is rate-limiting: try again later or authenticate for a higher limit",
            _ when (int)response.StatusCode >= 500 => "the registry failed: try again later",
            _ => "check the reference and the registry",
        };
        throw new PromotionException($"registry {Registry} refused to {what}: {(int)response.StatusCode} {response.ReasonPhrase}{detail}; {fix}")
        {
            // A bearer token refused on a streamed upload (not replayable, so the auth handler could not retry
            // it) most often expired on the wire; the handler has dropped it, so a fresh attempt gets a new one.
            Transient = (int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
                || response.StatusCode == HttpStatusCode.Unauthorized && response.RequestMessage?.Content is { } body
                   && !Transport.RetryHandler.IsReplayable(body) && response.RequestMessage.Headers.Authorization?.Scheme == "Bearer",
        };
    }

    /// <summary>The scope a Bearer challenge says was missing (RFC 6750 <c>error="insufficient_scope"</c>), or null.</summary>
    private static string? InsufficientScope(HttpResponseMessage response)
    {
        foreach (var header in response.Headers.WwwAuthenticate)
            foreach (var challenge in Auth.AuthChallenge.ParseAll(header.Scheme + (header.Parameter is null ? "" : " " + header.Parameter)))
                if (challenge.Parameters.TryGetValue("error", out var error) && error == "insufficient_scope")
                    return challenge.Scope ?? "";
        return null;
    }

    /// <summary><c>repository:prod/app:pull,push</c> → <c>push to prod/app</c>.</summary>
    private static string ScopeAction(string scope, string repository)
    {
        var scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var chosen = scopes.FirstOrDefault(x => x.EndsWith("push", StringComparison.Ordinal)) ?? scopes.FirstOrDefault();
        var parts = chosen?.Split(':');
        if (parts is { Length: 3 } && parts[0] == "repository")
            return (parts[2].Contains("push", StringComparison.Ordinal) ? "push to " : "pull from ") + parts[1];
        return "do this in " + repository;
    }

    private static async Task<string> ErrorDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (bytes.Length == 0 || bytes.Length > 64 * 1024) return "";
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                var e = errors[0];
                var code = e.TryGetProperty("code", out var c) ? c.GetString() : null;
                var message = e.TryGetProperty("message", out var m) ? m.GetString() : null;
                return $" ({code}: {message})";
            }
        }
        catch (Exception) { /* an error body is a courtesy; its absence is not an error of ours */ }
        return "";
    }

    private static Uri? Location(HttpResponseMessage response)
    {
        var location = response.Headers.Location;
        if (location is null) return null;
        return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage!.RequestUri!, location);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var cv) ? cv.FirstOrDefault() : null;

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, string where, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > limit)
                throw new PromotionException($"manifest {where} is over the {limit}-byte limit: refusing to copy it");
        }
        return buffer.ToArray();
    }
}
