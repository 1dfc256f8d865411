namespace ImagePromotion.Registry.Transport;

/// <summary>
/// Every response body the engine reads into memory has a ceiling, checked while reading (a body that never
/// ends is cut off at the ceiling, not at the end of memory: skopeo stops at 4 MiB for the same reason).
/// Blobs are never read into memory whole; their streams are checked against their descriptors instead.
/// </summary>
public static class BodyLimits
{
    /// <summary>Manifests, indexes and referrers lists: the distribution registry's own 4 MiB limit.</summary>
    public const int Manifest = 4 * 1024 * 1024;
    /// <summary>A page of a tag list (1,000 tags of up to 128 characters, with room to spare).</summary>
    public const int TagList = 4 * 1024 * 1024;
    /// <summary>A token response: a JWT and a few fields.</summary>
    public const int Token = 1024 * 1024;
    /// <summary>An error body or the body of an answer whose headers are all we need.</summary>
    public const int Small = 64 * 1024;
    /// <summary>An image config blob (labels, history, environment) read whole by gates and scans.</summary>
    public const int Config = 8 * 1024 * 1024;

    /// <summary>
    /// Reads <paramref name="content"/> up to <paramref name="limit"/> bytes; one byte more fails with a
    /// <see cref="PromotionException"/> naming <paramref name="what"/>.
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpContent content, long limit, string what, CancellationToken ct)
    {
        if (content.Headers.ContentLength is { } declared && declared > limit)
            throw TooLarge(what, limit, declared);
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream(content.Headers.ContentLength is { } n and > 0 ? (int)n : 0);
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit) throw TooLarge(what, limit, null);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>Reads the body once, within the limit, and puts it back as bytes so it can be read again.</summary>
    public static async Task BufferAsync(HttpResponseMessage response, long limit, string what, CancellationToken ct)
    {
        var bytes = await ReadAsync(response.Content, limit, what, ct).ConfigureAwait(false);
        var buffered = new ByteArrayContent(bytes);
        foreach (var header in response.Content.Headers)
            if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                buffered.Headers.TryAddWithoutValidation(header.Key, header.Value);
        response.Content.Dispose();
        response.Content = buffered;
    }

    private static PromotionException TooLarge(string what, long limit, long? declared) =>
        new($"{what}: the answer is {(declared is { } d ? $"{d} bytes" : "longer")}, over the {limit}-byte limit for it; refusing to read it into memory (a broken or hostile registry)");
}
