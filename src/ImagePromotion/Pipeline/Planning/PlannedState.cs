using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Pipeline.Planning;

/// <summary>
/// What the earlier phases of a dry run would have written: tags (and layout tags) with the digest they would
/// point at, and the records and scan results they would attach. A later phase plans on this, not on today's
/// registry state, so a multi-phase dry run plans what the real run will do. Empty in a real run, where the
/// registries themselves hold the earlier phases' outcome.
/// </summary>
public sealed class PlannedState
{
    private readonly Dictionary<string, PlannedDigest> _tags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PromotionRecord>> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ScanResult>> _scans = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Notes that <paramref name="reference"/> (registry/repository:tag, or oci:DIR:TAG) would point at <paramref name="digest"/>.</summary>
    public void SetTag(string reference, PlannedDigest digest) { lock (_lock) _tags[reference] = digest; }

    /// <summary>The digest an earlier phase planned for <paramref name="reference"/>, if any.</summary>
    public PlannedDigest? Tag(string reference) { lock (_lock) return _tags.GetValueOrDefault(reference); }

    /// <summary>Notes a record an earlier phase would attach to <paramref name="pinned"/> (registry/repository@digest).</summary>
    public void AddRecord(ImageReference pinned, PromotionRecord record) { lock (_lock) Add(_records, Key(pinned), record); }

    /// <summary>Notes a scan result an earlier phase would attach to <paramref name="pinned"/>.</summary>
    public void AddScan(ImageReference pinned, ScanResult result) { lock (_lock) Add(_scans, Key(pinned), result); }

    /// <summary>The records earlier phases planned for <paramref name="pinned"/>.</summary>
    public IReadOnlyList<PromotionRecord> Records(ImageReference pinned) { lock (_lock) return _records.GetValueOrDefault(Key(pinned))?.ToArray() ?? []; }

    /// <summary>The scan results earlier phases planned for <paramref name="pinned"/>.</summary>
    public IReadOnlyList<ScanResult> Scans(ImageReference pinned) { lock (_lock) return _scans.GetValueOrDefault(Key(pinned))?.ToArray() ?? []; }

    /// <summary>
    /// What <paramref name="reference"/>'s tag points at for this plan: an earlier phase's planned digest, else
    /// the registry's answer (null: absent).
    /// </summary>
    public async Task<PlannedDigest?> ResolveAsync(RegistryClient client, ImageReference reference, CancellationToken ct)
    {
        if (Tag(reference.ToString()) is { } planned) return planned;
        var head = await client.HeadManifestAsync(reference.Repository, reference.Identifier, ct).ConfigureAwait(false);
        return head is null ? null : PlannedDigest.Known(head.Digest);
    }

    private static string Key(ImageReference pinned) => $"{pinned.Name}@{pinned.Digest}";

    private static void Add<T>(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out var list)) map[key] = list = [];
        list.Add(value);
    }
}
