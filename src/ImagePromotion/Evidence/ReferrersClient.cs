using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Evidence;

/// <summary>
/// The parts of the distribution spec the engine's client does not need: the referrers API, pushing a manifest
/// while reading the <c>OCI-Subject</c> answer, and the referrers tag schema (the fallback for registries such as
/// distribution 2.8 that have no referrers API: an index under the tag <c>sha256-&lt;hex&gt;</c>).
/// </summary>
internal sealed class ReferrersClient(RegistryTransport transport, string registry)
{
    private readonly Uri _base = new($"https://{ImagePromotion.Registry.Profiles.RegistryProfiles.ApiHost(registry)}/v2/");
    private readonly RegistryClient _client = new(transport, registry);

    public RegistryClient Client => _client;
    public string Registry => registry;

    /// <summary>The referrers of a digest through the API, or null when the registry has no referrers API (404).</summary>
    public async Task<IReadOnlyList<Descriptor>?> GetReferrersAsync(string repository, Digest subject, string? artifactType, CancellationToken ct)
    {
        var path = $"{repository}/referrers/{subject}" + (artifactType is null ? "" : "?artifactType=" + Uri.EscapeDataString(artifactType));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, path)).WithScopes(RequestScopes.Pull(repository));
        request.Headers.Accept.ParseAdd(MediaTypes.OciIndex);
        using var response = await SendAsync(request, $"list referrers of {repository}@{subject}", ct).ConfigureAwait(false);
        // A registry with the API answers 200 with an empty index for a digest without referrers; 404 means no API.
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
            throw new PromotionException($"registry {registry} refused to list the referrers of {repository}@{subject}: {(int)response.StatusCode} {response.ReasonPhrase}; check access to {repository}");
        var media = response.Content.Headers.ContentType?.MediaType;
        if (media is not null && media != MediaTypes.OciIndex && media != "application/json")
            return null; // some registries answer the unknown route with an HTML or text page
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        Manifest index;
        try { index = Manifest.Parse(bytes, MediaTypes.OciIndex, $"referrers of {registry}/{repository}@{subject}"); }
        catch (PromotionException) { return null; }
        // Filtering is optional for the registry (it says so in OCI-Filters-Applied): filter again ourselves.
        return index.Manifests.Where(d => artifactType is null || d.ArtifactType == artifactType).ToArray();
    }

    /// <summary>
    /// The fallback index: the entries under the subject's tag schema tag and under every overflow tag after it
    /// (<see cref="EvidenceArtifact.OverflowTag"/>), read in order until the first one that does not exist, as one
    /// list (each digest once). <c>NextSlot</c> is the first overflow number not yet taken.
    /// </summary>
    public async Task<FallbackIndex> GetFallbackAsync(string repository, Digest subject, CancellationToken ct)
    {
        var entries = new List<Descriptor>();
        var seen = new HashSet<Digest>();
        var baseExists = false;
        for (var slot = 0; ; slot++)
        {
            var tag = slot == 0 ? EvidenceArtifact.FallbackTag(subject) : EvidenceArtifact.OverflowTag(subject, slot);
            var index = await _client.GetManifestAsync(repository, tag, null, ct).ConfigureAwait(false);
            if (index is null)
            {
                // A missing base with overflow tags cannot happen (the base is always written first); stop at the first gap.
                if (slot == 0) return new FallbackIndex(entries, false, 1);
                return new FallbackIndex(entries, baseExists, slot);
            }
            if (!MediaTypes.IsIndex(index.MediaType))
                throw new PromotionException($"{registry}/{repository}:{tag} is a {index.MediaType}, not the referrers index the tag schema expects: delete that tag, it is reserved for evidence of {subject}");
            if (slot == 0) baseExists = true;
            foreach (var d in index.Manifests) if (seen.Add(d.Digest)) entries.Add(d);
            if (slot >= MaxOverflowSlots)
                throw new PromotionException($"{registry}/{repository}: more than {MaxOverflowSlots} referrers overflow tags for {subject}: the registry keeps refusing to rewrite tags; enable its referrers API");
        }
    }

    /// <summary>How many overflow tags a reader follows: each holds every entry before it, so a long chain means a stuck writer.</summary>
    public const int MaxOverflowSlots = 1000;

    /// <summary>
    /// Adds referrers to the fallback index, as the distribution spec's tag schema says (read, add, write back), with one
    /// extension for registries whose tags are immutable (ECR IMMUTABLE repositories answer 400 TAG_INVALID, Harbor and
    /// Artifactory immutability rules refuse likewise; sigstore/cosign#313, goharbor/harbor#17332): when the base tag
    /// cannot be rewritten, the whole list (old entries and new) goes under the next free overflow tag
    /// <c>sha256-&lt;hex&gt;.referrers.N</c>, which readers union with the base. A tag that is written once is all an
    /// immutable registry needs, and an overflow tag that another writer took first is simply the next slot's cue.
    /// Concurrent writers on a mutable base can lose an entry, so the index is read back until every entry is there.
    /// </summary>
    public async Task AddToFallbackAsync(string repository, Digest subject, IReadOnlyList<Descriptor> referrers, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetFallbackAsync(repository, subject, ct).ConfigureAwait(false);
            var present = current.Entries.Select(e => e.Digest).ToHashSet();
            var missing = referrers.Where(r => !present.Contains(r.Digest)).ToArray();
            if (missing.Length == 0) return;
            var manifests = new JsonArray();
            foreach (var e in current.Entries.Concat(missing)) manifests.Add(EvidenceArtifact.Json(e));
            var bytes = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = MediaTypes.OciIndex,
                ["manifests"] = manifests,
            });
            // An overflow tag exists only because the base was refused once: the registry's tags are immutable.
            var immutable = _immutable.Contains(repository) || current.NextSlot > 1;
            var tag = current.BaseExists && immutable ? EvidenceArtifact.OverflowTag(subject, current.NextSlot) : EvidenceArtifact.FallbackTag(subject);
            var refusal = await TryPutTagAsync(repository, tag, bytes, ct).ConfigureAwait(false);
            if (refusal is not null)
            {
                var exists = await _client.HeadManifestAsync(repository, tag, ct).ConfigureAwait(false) is not null;
                if (!exists || attempt >= 5) throw new PromotionException(refusal);
                // The tag exists and was not rewritten: the registry keeps tags immutable (or another writer took this overflow slot).
                _immutable.Add(repository);
                continue;
            }
            var after = await GetFallbackAsync(repository, subject, ct).ConfigureAwait(false);
            var listed = after.Entries.Select(e => e.Digest).ToHashSet();
            if (referrers.All(r => listed.Contains(r.Digest))) return;
            if (attempt >= 5)
                throw new PromotionException($"{registry}/{repository}:{tag}: another writer kept replacing the referrers index; run again to attach the evidence");
            await Task.Delay(100 * attempt, ct).ConfigureAwait(false);
        }
    }

    private readonly HashSet<string> _immutable = new(StringComparer.Ordinal);

    /// <summary>PUTs an index under a tag; null on success, else the one-line refusal (the caller decides whether it was immutability).</summary>
    private async Task<string?> TryPutTagAsync(string repository, string tag, byte[] index, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_base, $"{repository}/manifests/{tag}")).WithScopes(RequestScopes.Push(repository));
        request.Content = new ByteArrayContent(index);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciIndex);
        using var response = await SendAsync(request, $"write the referrers index {repository}:{tag}", ct).ConfigureAwait(false);
        if (response.IsSuccessStatusCode) return null;
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var message = $"registry {registry} refused to write the referrers index {repository}:{tag}: {(int)response.StatusCode} {response.ReasonPhrase} {OneLine(body)}";
        return (int)response.StatusCode is 400 or 403 or 405 or 409 or 412
            ? message + "; check push access to " + repository
            : message + "; try again";
    }

    /// <summary>Pushes a manifest by digest; true when the registry answered with <c>OCI-Subject</c> (it indexes referrers itself).</summary>
    public async Task<bool> PutManifestAsync(string repository, Manifest manifest, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_base, $"{repository}/manifests/{manifest.Digest}"))
            .WithScopes(RequestScopes.Push(repository));
        request.Content = new ByteArrayContent(manifest.Bytes);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
        using var response = await SendAsync(request, $"write manifest {repository}@{manifest.Digest}", ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new PromotionException($"registry {registry} refused to write evidence manifest {repository}@{manifest.Digest}: {(int)response.StatusCode} {response.ReasonPhrase} {OneLine(body)}; check push access to {repository}");
        }
        return response.Headers.Contains("OCI-Subject");
    }

    /// <summary>Uploads a small blob (evidence JSON, the empty config) unless the repository has it.</summary>
    public async Task EnsureBlobAsync(string repository, Descriptor descriptor, byte[] content, CancellationToken ct)
    {
        if (await _client.BlobExistsAsync(repository, descriptor.Digest, ct).ConfigureAwait(false)) return;
        var location = await _client.StartUploadAsync(repository, ct).ConfigureAwait(false);
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        await _client.CompleteUploadAsync(repository, location, descriptor.Digest, body, ct).ConfigureAwait(false);
    }

    /// <summary>Reads a small blob whole and checks it against its descriptor (never more than its stated size is read).</summary>
    public Task<byte[]> ReadBlobAsync(string repository, Descriptor descriptor, long limit, CancellationToken ct) =>
        _client.ReadBlobAsync(repository, descriptor, limit, ct);

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        try
        {
            var response = await transport.Http.SendAsync(request, ct).ConfigureAwait(false);
            // A referrers list is an index: the 4 MiB manifest limit; anything longer is cut off while reading.
            try { await BodyLimits.BufferAsync(response, BodyLimits.Manifest, $"registry {registry}: {what}", ct).ConfigureAwait(false); }
            catch { response.Dispose(); throw; }
            return response;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException)
        {
            throw new PromotionException($"cannot reach registry {registry} to {what} ({RegistryRetry.Innermost(ex)}): check that it is running and the address is right", ex) { Transient = true };
        }
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }
}

/// <summary>The fallback index as read: every entry once, whether the base tag exists, and the next free overflow slot.</summary>
internal sealed record FallbackIndex(IReadOnlyList<Descriptor> Entries, bool BaseExists, int NextSlot);
