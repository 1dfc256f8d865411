using System.Text;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Reads a manifest as UTF-8 (remembering a byte order mark) and writes it back atomically: a temporary
/// file beside it, flushed, then renamed over it, so readers never see half a manifest.
/// </summary>
internal static class ManifestFile
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async Task<string> ReadAsync(string path, string shown, ManifestLimits limits, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new PromotionException($"manifest {shown} does not exist; check the path (relative to the repository root)");
        if (info.Length > limits.MaxFileBytes)
            throw new PromotionException($"manifest {shown} is {info.Length} bytes, over the {limits.MaxFileBytes}-byte limit; refusing it (raise ManifestLimits.MaxFileBytes if it is genuine)");
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Decode(bytes, shown);
    }

    /// <summary>
    /// Reads the raw bytes with one open (no separate stat), refusing oversized files before reading them.
    /// Synchronous on purpose: folder scans read thousands of small files, where async I/O only adds overhead.
    /// </summary>
    public static byte[] ReadBytes(string path, string shown, ManifestLimits limits)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        if (stream.Length > limits.MaxFileBytes)
            throw new PromotionException($"manifest {shown} is {stream.Length} bytes, over the {limits.MaxFileBytes}-byte limit; refusing it (raise ManifestLimits.MaxFileBytes if it is genuine)");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>UTF-8 text; a byte order mark becomes a leading U+FEFF, so it is written back unchanged.</summary>
    public static string Decode(byte[] bytes, string shown)
    {
        if (bytes.Length >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)))
            throw new PromotionException($"manifest {shown} is UTF-16; save it as UTF-8 (Kubernetes tools expect UTF-8)");
        try { return Strict.GetString(bytes); }
        catch (DecoderFallbackException ex)
        {
            throw new PromotionException($"manifest {shown} is not valid UTF-8 (byte {ex.Index}); save it as UTF-8", ex);
        }
    }

    public static byte[] Encode(string text) => Strict.GetBytes(text);

    /// <summary>
    /// Replaces the file with <paramref name="text"/> unless it no longer holds <paramref name="expected"/>
    /// (someone else edited it since it was read), in which case nothing is written.
    /// </summary>
    public static async Task WriteAtomicallyAsync(string path, string shown, string expected, string text, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(Encode(text), cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            var current = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            if (!current.AsSpan().SequenceEqual(Encode(expected)))
                throw new PromotionException($"manifest {shown} changed while it was being updated; run the update again");
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
