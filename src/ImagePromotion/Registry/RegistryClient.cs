using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ImagePromotion.Registry.Profiles;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Registry;

/// <summary>
/// The OCI distribution API for one registry host: manifests and blobs by repository (blobs in
/// <c>RegistryClient.Blobs.cs</c>). Every call states the token scope it needs; every failure is a
/// <see cref="RegistryException"/> naming the registry, the repository and the fix; every body read into
/// memory has a limit (<see cref="BodyLimits"/>).
/// </summary>
public sealed partial class RegistryClient(RegistryTransport transport, string registry)
{
    /// <summary>The registry host with optional port, as named in references (<c>127.0.0.1:5000</c>, <c>docker.io</c>).</summary>
    public string Registry { get; } = registry;
    private readonly Uri _base = new($"https://{RegistryProfiles.ApiHost(registry)}/v2/");

    /// <summary>The longest <c>Retry-After</c> worth waiting (<see cref="TransportOptions.MaxRetryAfter"/>).</summary>
    public TimeSpan MaxRetryAfter => transport.Options.MaxRetryAfter;

    /// <summary>The registry's profile and what this run learned about it.</summary>
    public RegistryBehaviour Behaviour => transport.Behaviours.For(Registry);

    /// <summary>The digest, media type and size a tag or digest resolves to, or null when it does not exist.</summary>
    public async Task<Descriptor?> HeadManifestAsync(string repository, string reference, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Head, $"{repository}/manifests/{reference}", RequestScopes.Pull(repository));
        request.Headers.Accept.ParseAdd(string.Join(", ", MediaTypes.Manifests));
        var what = $"look up {repository}:{reference}";
        using var response = await SendAsync(request, RegistryOperation.LookUpManifest, repository, what, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, RegistryOperation.LookUpManifest, what, repository, ct).ConfigureAwait(false);
        var digestHeader = Header(response, "Docker-Content-Digest");
        if (!Digest.TryParse(digestHeader, out var digest))
        {
            // Some registries omit the header on HEAD (Artifactory: deitch/docker_registry2#83); the body tells the truth.
            var m = await GetManifestAsync(repository, reference, null, ct).ConfigureAwait(false);
            return m?.ToDescriptor();
        }
        return new Descriptor(response.Content.Headers.ContentType?.MediaType ?? "", digest, response.Content.Headers.ContentLength ?? -1);
    }

    /// <summary>GET of a manifest with every supported type in <c>Accept</c>, kept as bytes; null on 404.</summary>
    /// <param name="repository">Repository path (<c>team/app</c>).</param>
    /// <param name="reference">A tag or a digest.</param>
    /// <param name="expected">When known, the digest the bytes must hash to (otherwise the reference's own digest, or the <c>Docker-Content-Digest</c> header, is checked).</param>
    /// <param name="ct">Cancels the request.</param>
    /// <exception cref="RegistryException">An error answer other than 404, or no answer.</exception>
    /// <exception cref="PromotionException">The bytes are over 4 MiB, do not match the digest, or are not a manifest type the engine copies.</exception>
    public async Task<Manifest?> GetManifestAsync(string repository, string reference, Digest? expected, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, $"{repository}/manifests/{reference}", RequestScopes.Pull(repository));
        request.Headers.Accept.ParseAdd(string.Join(", ", MediaTypes.Manifests));
        var where = $"{Registry}/{repository}{(Digest.TryParse(reference, out _) ? "@" : ":")}{reference}";
        var what = $"read manifest {where}";
        using var response = await SendAsync(request, RegistryOperation.ReadManifest, repository, what, ct, buffer: false).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, RegistryOperation.ReadManifest, what, repository, ct).ConfigureAwait(false);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (MediaTypes.IsSchema1(mediaType)) throw Manifest.Schema1(where);
        byte[] bytes;
        try { bytes = await BodyLimits.ReadAsync(response.Content, BodyLimits.Manifest, $"manifest {where}", ct).ConfigureAwait(false); }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException)
        {
            throw new RegistryException($"registry {Registry} broke off its answer to {what} ({RegistryRetry.Innermost(ex)}): check the network or try again",
                Registry, repository, RegistryOperation.ReadManifest, null, null, ex)
            { Transient = true };
        }
        if (Manifest.IsSchema1(bytes)) throw Manifest.Schema1(where);
        // A digest reference must be served byte for byte; a tag is checked against the registry's own header.
        var check = expected ?? (Digest.TryParse(reference, out var asked) ? asked : (Digest?)null);
        // Before parsing: bytes damaged on the way are a digest mismatch, not a "not valid JSON" manifest.
        if (check is null && Digest.TryParse(Header(response, "Docker-Content-Digest"), out var served) && served.Algorithm == "sha256"
            && Digest.Sha256(bytes) is var actual && served != actual)
            throw new PromotionException($"manifest {where}: the registry says {served} but the bytes hash to {actual}: refusing to copy it");
        return Manifest.Parse(bytes, mediaType, where, check);
    }

    /// <summary>Pushes the manifest bytes unchanged; returns the digest the registry computed.</summary>
    public async Task<Digest> PutManifestAsync(string repository, string reference, Manifest manifest, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Put, $"{repository}/manifests/{reference}", RequestScopes.Push(repository));
        request.Content = new ByteArrayContent(manifest.Bytes);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
        var what = $"write manifest {Registry}/{repository}:{reference}";
        using var response = await SendAsync(request, RegistryOperation.WriteManifest, repository, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, RegistryOperation.WriteManifest, what, repository, ct).ConfigureAwait(false);
        return Digest.TryParse(Header(response, "Docker-Content-Digest"), out var d) ? d : manifest.Digest;
    }

    /// <summary>Every tag of the repository, following <c>Link</c> pagination (1000 per page); empty when the repository does not exist.</summary>
    /// <exception cref="RegistryException">An error answer other than 404, or no answer.</exception>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken ct)
    {
        var tags = new List<string>();
        string? next = $"{repository}/tags/list?n=1000";
        while (next is not null)
        {
            using var request = Request(HttpMethod.Get, next, RequestScopes.Pull(repository));
            var what = $"list tags of {Registry}/{repository}";
            using var response = await SendAsync(request, RegistryOperation.ListTags, repository, what, ct, BodyLimits.TagList).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return tags;
            await EnsureSuccessAsync(response, RegistryOperation.ListTags, what, repository, ct).ConfigureAwait(false);
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

    /// <summary>
    /// Sends one request. The body is read into memory up to <paramref name="limit"/> bytes (error bodies and
    /// small answers) unless <paramref name="buffer"/> is false (streams and manifests, read by the caller).
    /// No answer at all becomes a transient <see cref="RegistryException"/> with no status.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryOperation operation, string? repository,
        string what, CancellationToken ct, int limit = BodyLimits.Small, bool buffer = true)
    {
        HttpResponseMessage response;
        try
        {
            response = await transport.Http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"cannot reach registry {Registry} to {what} ({RegistryRetry.Innermost(ex)}): check that it is running and the address is right",
                Registry, repository, operation, null, null, ex)
            { Transient = true };
        }
        catch (TimeoutException ex)
        {
            throw new RegistryException($"registry {Registry} did not answer in time to {what} ({ex.Message}): check the network or try again",
                Registry, repository, operation, null, null, ex)
            { Transient = true };
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new RegistryException($"registry {Registry} did not answer in time to {what}: check the network or try again",
                Registry, repository, operation, null, null, ex)
            { Transient = true };
        }
        // Errors are read whole (within the small limit) whatever the caller wanted: their body says why.
        if (request.Method == HttpMethod.Head || (!buffer && response.IsSuccessStatusCode)) return response;
        try
        {
            await BodyLimits.BufferAsync(response, response.IsSuccessStatusCode ? limit : BodyLimits.Small, $"registry {Registry}: {what}", ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException)
        {
            response.Dispose();
            throw new RegistryException($"registry {Registry} broke off its answer to {what} ({RegistryRetry.Innermost(ex)}): check the network or try again",
                Registry, repository, operation, null, null, ex)
            { Transient = true };
        }
        catch (PromotionException)
        {
            response.Dispose();
            throw;
        }
        return response;
    }

    private Task EnsureSuccessAsync(HttpResponseMessage response, RegistryOperation operation, string what, string repository, CancellationToken ct) =>
        response.IsSuccessStatusCode ? Task.CompletedTask
            : throw RegistryErrors.From(response, operation, Registry, repository, what, transport.Credentials.Get(Registry));

    private static Uri? Location(HttpResponseMessage response)
    {
        var location = response.Headers.Location;
        if (location is null) return null;
        return location.IsAbsoluteUri ? location : new Uri(response.RequestMessage!.RequestUri!, location);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var cv) ? cv.FirstOrDefault() : null;
}
