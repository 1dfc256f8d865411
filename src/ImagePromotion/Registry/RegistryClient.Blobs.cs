using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Registry;

/// <summary>An open upload session: where to send bytes next, and the smallest chunk the registry said it takes.</summary>
public sealed record UploadSession(Uri Location, long MinChunkBytes);

public sealed partial class RegistryClient
{
    /// <summary>HEAD on the blob: true when the repository holds it, false on 404.</summary>
    /// <exception cref="RegistryException">Any other error answer, or no answer.</exception>
    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Head, $"{repository}/blobs/{digest}", RequestScopes.Pull(repository));
        var what = $"check blob {digest} in {Registry}/{repository}";
        using var response = await SendAsync(request, RegistryOperation.CheckBlob, repository, what, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await EnsureSuccessAsync(response, RegistryOperation.CheckBlob, what, repository, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Asks the registry to link a blob from another repository. 201: done, nothing uploaded (null returned).
    /// 202: the registry declined (another storage backend, a blob no manifest references) but opened an
    /// upload session, returned so the caller uploads there instead of asking again. Any other refusal
    /// (401, 403, 404, DENIED…) is a <see cref="RegistryException"/> with <see cref="RegistryOperation.MountBlob"/>.
    /// </summary>
    public async Task<UploadSession?> MountBlobAsync(string repository, Digest digest, string fromRepository, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post,
            $"{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}",
            RequestScopes.Push(repository), RequestScopes.Pull(fromRepository));
        var what = $"mount blob {digest} from {fromRepository} into {Registry}/{repository}";
        using var response = await SendAsync(request, RegistryOperation.MountBlob, repository, what, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created) return null;
        await EnsureSuccessAsync(response, RegistryOperation.MountBlob, what, repository, ct).ConfigureAwait(false);
        return Session(response, repository, RegistryOperation.MountBlob);
    }

    /// <summary>Opens an upload session (<c>POST /v2/&lt;name&gt;/blobs/uploads/</c>).</summary>
    /// <exception cref="RegistryException">The registry refuses (no push permission, quota) or does not answer.</exception>
    public async Task<UploadSession> StartUploadAsync(string repository, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post, $"{repository}/blobs/uploads/", RequestScopes.Push(repository));
        var what = $"start a blob upload to {Registry}/{repository}";
        using var response = await SendAsync(request, RegistryOperation.StartUpload, repository, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, RegistryOperation.StartUpload, what, repository, ct).ConfigureAwait(false);
        return Session(response, repository, RegistryOperation.StartUpload);
    }

    private UploadSession Session(HttpResponseMessage response, string repository, RegistryOperation operation)
    {
        var location = Location(response) ?? throw new RegistryException(
            $"registry {Registry} opened an upload for {repository} without a Location header: the registry is not OCI-conformant",
            Registry, repository, operation, response.StatusCode, null);
        // distribution-spec 1.1: a registry may state the smallest chunk it takes.
        var min = long.TryParse(Header(response, "OCI-Chunk-Min-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
        if (min > 0) Behaviour.ChunkMinimumIs(min);
        return new UploadSession(location, min);
    }

    /// <summary>
    /// Completes an upload with one streamed PUT (monolithic). The content is not replayable, so a failure here
    /// is retried by the caller from a fresh source stream and a fresh upload session.
    /// </summary>
    public async Task CompleteUploadAsync(string repository, UploadSession session, Digest digest, HttpContent content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, WithDigest(session.Location, digest)) { Content = content };
        request.WithScopes(RequestScopes.Push(repository));
        var what = $"upload blob {digest} to {Registry}/{repository}";
        using var response = await SendAsync(request, RegistryOperation.CompleteUpload, repository, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, RegistryOperation.CompleteUpload, what, repository, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends one chunk (<c>PATCH</c> with <c>Content-Range: start-end</c>) and returns the session to continue in.
    /// Any 2xx is taken (ECR answers 201, Pulp 204: openai/tart#273, pulp/pulp_container#2199); a <c>Range</c>
    /// that does not end where the chunk ended means the registry kept less, which is an error, not a success.
    /// </summary>
    public async Task<UploadSession> UploadChunkAsync(string repository, UploadSession session, long offset, HttpContent chunk, long length,
        Digest digest, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, session.Location) { Content = chunk };
        request.WithScopes(RequestScopes.Push(repository));
        chunk.Headers.ContentLength = length;
        chunk.Headers.TryAddWithoutValidation("Content-Range", string.Create(CultureInfo.InvariantCulture, $"{offset}-{offset + length - 1}"));
        var what = $"upload bytes {offset}-{offset + length - 1} of blob {digest} to {Registry}/{repository}";
        using var response = await SendAsync(request, RegistryOperation.UploadChunk, repository, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, RegistryOperation.UploadChunk, what, repository, ct).ConfigureAwait(false);
        if (Header(response, "Range") is { } range && range.Split('-') is [_, var end]
            && long.TryParse(end, NumberStyles.None, CultureInfo.InvariantCulture, out var last) && last != offset + length - 1)
            throw new RegistryException($"registry {Registry} kept bytes up to {last} of blob {digest} after a chunk ending at {offset + length - 1}: the upload is incomplete; it is started again",
                Registry, repository, RegistryOperation.UploadChunk, response.StatusCode, RegistryErrorCodes.BlobUploadInvalid)
            { Transient = true };
        return session with { Location = Location(response) ?? session.Location };
    }

    /// <summary>Ends a chunked upload: an empty <c>PUT ?digest=</c>.</summary>
    public async Task FinishChunkedUploadAsync(string repository, UploadSession session, Digest digest, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, WithDigest(session.Location, digest)) { Content = new ByteArrayContent([]) };
        request.WithScopes(RequestScopes.Push(repository));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var what = $"complete the chunked upload of blob {digest} to {Registry}/{repository}";
        using var response = await SendAsync(request, RegistryOperation.CompleteUpload, repository, what, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, RegistryOperation.CompleteUpload, what, repository, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Cancels an upload session (<c>DELETE</c>), so a failed transfer leaves nothing behind (Artifactory without
    /// delete rights needs an admin to clean up: oras-project/rust-oci-client#205). Best effort: never throws.
    /// </summary>
    public async Task CancelUploadAsync(string repository, UploadSession session)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var request = new HttpRequestMessage(HttpMethod.Delete, session.Location);
            request.WithScopes(RequestScopes.Push(repository));
            using var response = await transport.Http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception) { /* the failure that made us cancel is the one worth reporting */ }
    }

    /// <summary>Opens a blob for streaming; the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> GetBlobAsync(string repository, Digest digest, CancellationToken ct)
    {
        var request = Request(HttpMethod.Get, $"{repository}/blobs/{digest}", RequestScopes.Pull(repository));
        var what = $"read blob {digest} from {Registry}/{repository}";
        var response = await SendAsync(request, RegistryOperation.ReadBlob, repository, what, ct, buffer: false).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new RegistryException($"blob {digest} is missing from {Registry}/{repository}: the source image is incomplete; push it again",
                Registry, repository, RegistryOperation.ReadBlob, HttpStatusCode.NotFound, RegistryErrorCodes.BlobUnknown);
        }
        try { await EnsureSuccessAsync(response, RegistryOperation.ReadBlob, what, repository, ct).ConfigureAwait(false); }
        catch { response.Dispose(); throw; }
        return response;
    }

    /// <summary>
    /// Reads a small blob (an image config, an evidence document) whole and checks it against its descriptor:
    /// more than <paramref name="limit"/> bytes (or than the descriptor's size) is refused while reading, so a
    /// body that never ends costs at most the limit.
    /// </summary>
    public async Task<byte[]> ReadBlobAsync(string repository, Descriptor descriptor, long limit, CancellationToken ct)
    {
        var where = $"blob {descriptor.Digest} in {Registry}/{repository}";
        if (descriptor.Size > limit)
            throw new PromotionException($"{where} is {descriptor.Size} bytes, over the {limit}-byte limit for it");
        using var response = await GetBlobAsync(repository, descriptor.Digest, ct).ConfigureAwait(false);
        byte[] bytes;
        try { bytes = await BodyLimits.ReadAsync(response.Content, descriptor.Size, where, ct).ConfigureAwait(false); }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException)
        {
            throw new RegistryException($"reading {where} broke off ({RegistryRetry.Innermost(ex)}): check the network or try again",
                Registry, repository, RegistryOperation.ReadBlob, null, null, ex)
            { Transient = true };
        }
        if (bytes.Length != descriptor.Size)
            throw new PromotionException($"{where} is {bytes.Length} bytes, not the {descriptor.Size} its manifest states");
        if (!descriptor.Digest.Matches(bytes))
            throw new PromotionException($"{where} does not hash to its digest: the registry served other content");
        return bytes;
    }

    private static Uri WithDigest(Uri location, Digest digest)
    {
        var ub = new UriBuilder(location);
        var digestParam = "digest=" + Uri.EscapeDataString(digest.ToString());
        ub.Query = string.IsNullOrEmpty(ub.Query) || ub.Query == "?" ? digestParam : ub.Query.TrimStart('?') + "&" + digestParam;
        return ub.Uri;
    }
}
