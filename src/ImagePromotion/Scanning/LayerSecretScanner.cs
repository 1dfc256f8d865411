using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using ImagePromotion.Logging;
using ImagePromotion.Registry;

namespace ImagePromotion.Scanning;

/// <summary>What secret scanning saw in one layer blob.</summary>
/// <param name="SkippedReason">Set when the layer could not be scanned at all (zstd, not a tarball); null when it was.</param>
/// <param name="Layer">The layer's digest.</param>
/// <param name="MediaType">The layer's media type, which says how it is compressed.</param>
/// <param name="Findings">Secrets found, each with a masked hint, never the value.</param>
/// <param name="FilesScanned">Regular files read.</param>
/// <param name="LargeFilesSkipped">Files over <see cref="LayerSecretScanner.MaxFileSize"/> left unread.</param>
/// <param name="BinaryFilesSkipped">Files whose first 8 KiB look binary, left unread.</param>
public sealed record LayerScanResult(
    Digest Layer,
    string MediaType,
    IReadOnlyList<Finding> Findings,
    int FilesScanned,
    int LargeFilesSkipped,
    int BinaryFilesSkipped,
    string? SkippedReason);

/// <summary>
/// Looks for well-known credentials in the text files of one layer, reading the blob once, forward only:
/// decompress, walk the tar entries, read each small text file line by line. Nothing is unpacked to disk and
/// at most one sniff block is held per file, so a multi-gigabyte layer costs no more memory than a small one.
/// </summary>
public sealed class LayerSecretScanner(BuiltInRuleSettings? settings = null, IPipelineLog? log = null)
{
    /// <summary>Default of <see cref="MaxFileSize"/>: 10 MiB.</summary>
    public const long DefaultMaxFileSize = 10 * 1024 * 1024;
    private const int SniffSize = 8 * 1024;

    private readonly BuiltInRuleSettings _settings = settings ?? BuiltInRuleSettings.Default;

    /// <summary>Files larger than this are skipped: real credential files are small, large files are data.</summary>
    public long MaxFileSize { get; init; } = DefaultMaxFileSize;

    /// <summary>Reads the layer once (gzip or plain tar) and matches the secret rules line by line in each small text file.</summary>
    /// <param name="layer">The layer's digest, recorded in findings.</param>
    /// <param name="mediaType">The layer's media type; zstd and unknown types are skipped with the reason.</param>
    /// <param name="blob">The layer bytes, read forward once.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <exception cref="PromotionException">The blob is not a readable (compressed) tarball.</exception>
    public async Task<LayerScanResult> ScanAsync(Digest layer, string mediaType, Stream blob, CancellationToken cancellationToken = default)
    {
        var compression = LayerMediaTypes.CompressionOf(mediaType);
        if (compression is LayerCompression.Zstd)
            return Skipped(layer, mediaType, $"zstd-compressed layer ({mediaType}): not supported, skipped (no zstd decoder available)");
        if (compression is null)
            return Skipped(layer, mediaType, $"media type '{mediaType}' is not a layer tarball: skipped");

        var patterns = SecretPatterns.All.Where(p => _settings.IsEnabled(p.Rule)).ToArray();
        var findings = new List<Finding>();
        int scanned = 0, large = 0, binary = 0;
        try
        {
            await using var gzip = compression is LayerCompression.Gzip ? new GZipStream(blob, CompressionMode.Decompress, leaveOpen: true) : null;
            await using var tar = new TarReader(gzip ?? blob, leaveOpen: true);
            // copyData: false keeps each entry's data in the blob stream; moving on skips what was not read.
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                    continue;
                var path = ImagePath(entry.Name);
                // A whiteout marks a file deleted from lower layers; it has no content of its own.
                if (System.IO.Path.GetFileName(path).StartsWith(".wh.", StringComparison.Ordinal)) continue;
                if (entry.Length > MaxFileSize) { large++; log?.Verbose($"layer {layer}: {path} skipped ({entry.Length} bytes is over the {MaxFileSize}-byte cap)"); continue; }
                if (entry.DataStream is null || patterns.Length == 0) { scanned++; continue; }
                if (!await ScanFileAsync(layer, path, entry.DataStream, patterns, findings, cancellationToken)) { binary++; continue; }
                scanned++;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new PromotionException($"layer {layer}: cannot read it as {mediaType} ({ex.Message}); check the blob was fetched whole and its media type in the manifest is right");
        }

        log?.Verbose($"layer {layer}: {scanned} files scanned, {large} over the size cap and {binary} binary skipped, {findings.Count} secret findings");
        return new LayerScanResult(layer, mediaType, findings, scanned, large, binary, null);
    }

    /// <returns>false when the file is binary and was not scanned.</returns>
    private async Task<bool> ScanFileAsync(Digest layer, string path, Stream data, SecretPattern[] patterns, List<Finding> findings, CancellationToken ct)
    {
        var sniff = new byte[SniffSize];
        var filled = 0;
        while (filled < sniff.Length)
        {
            var n = await data.ReadAsync(sniff.AsMemory(filled), ct);
            if (n == 0) break;
            filled += n;
        }
        // The same test git and grep use: a NUL in the first block means binary.
        if (Array.IndexOf(sniff, (byte)0, 0, filled) >= 0) return false;

        using var reader = new StreamReader(new PrefixedReadStream(sniff.AsMemory(0, filled), data), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var inFile = new List<Finding>();
        var lineNumber = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            foreach (var pattern in patterns)
            {
                if (!pattern.MayMatch(line)) continue;
                for (var match = pattern.Regex.Match(line); match.Success; match = match.NextMatch())
                {
                    if (pattern.IsPlaceholder(match)) continue;
                    inFile.Add(new Finding
                    {
                        Id = pattern.Rule.Id,
                        Severity = _settings.SeverityOf(pattern.Rule),
                        Source = "builtin",
                        Title = $"{pattern.Rule.Description} ({pattern.Hint(match)})",
                        Layer = layer.ToString(),
                        Path = path,
                        Line = lineNumber,
                    });
                    break; // one finding per rule and line is enough to find it
                }
            }
        }
        findings.AddRange(PairAwsKeys(inFile));
        return true;
    }

    /// <summary>
    /// An access key id alone identifies an account; with its secret key a few lines away it is a working
    /// credential. Say so on the key id finding, so the reader knows which pairs to revoke first.
    /// </summary>
    private static IEnumerable<Finding> PairAwsKeys(List<Finding> inFile)
    {
        const int nearby = 5;
        var secretLines = inFile.Where(f => f.Id == BuiltInRules.AwsSecretAccessKey.Id).Select(f => f.Line!.Value).ToArray();
        foreach (var f in inFile)
        {
            if (f.Id != BuiltInRules.AwsAccessKeyId.Id || secretLines.Length == 0) { yield return f; continue; }
            var near = secretLines.Where(l => Math.Abs(l - f.Line!.Value) <= nearby).Order().ToArray();
            yield return near.Length == 0 ? f : f with { Title = f.Title + $" with a secret access key on line {near[0]}" };
        }
    }

    private static string ImagePath(string entryName)
    {
        var name = entryName.Replace('\\', '/');
        while (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
        return "/" + name.TrimStart('/');
    }

    private static LayerScanResult Skipped(Digest layer, string mediaType, string reason) =>
        new(layer, mediaType, [], 0, 0, 0, $"layer {layer}: {reason}");
}

internal enum LayerCompression { None, Gzip, Zstd }

/// <summary>The layer media types of the OCI image spec and Docker's image manifest v2 schema 2.</summary>
public static class LayerMediaTypes
{
    /// <summary>Uncompressed OCI layer.</summary>
    public const string OciTar = "application/vnd.oci.image.layer.v1.tar";
    /// <summary>gzip-compressed OCI layer.</summary>
    public const string OciTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// <summary>zstd-compressed OCI layer.</summary>
    public const string OciTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// <summary>gzip-compressed Docker layer.</summary>
    public const string DockerTarGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    internal static LayerCompression? CompressionOf(string mediaType) => mediaType switch
    {
        OciTar or "application/vnd.oci.image.layer.nondistributable.v1.tar" => LayerCompression.None,
        OciTarGzip or DockerTarGzip
            or "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            or "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => LayerCompression.Gzip,
        OciTarZstd or "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => LayerCompression.Zstd,
        _ => null,
    };
}
