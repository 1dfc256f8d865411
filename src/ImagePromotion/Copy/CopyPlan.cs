using ImagePromotion.Registry;

namespace ImagePromotion.Copy;

/// <summary>What a copy does with one blob.</summary>
public enum BlobAction
{
    /// <summary>The destination repository already holds it.</summary>
    Skip,
    /// <summary>Cross-repository mount inside one registry (distribution spec: <c>POST ?mount=&amp;from=</c>); no bytes move.</summary>
    Mount,
    /// <summary>Streamed from the source into a destination upload.</summary>
    Copy,
}

/// <summary>What will happen to one blob, decided before anything is written.</summary>
public sealed record BlobStep(Descriptor Blob, BlobAction Action, string Reason)
{
    /// <summary>A non-distributable layer left out of the copy.</summary>
    public bool Foreign { get; init; }
}

/// <summary>
/// A manifest below the top one (an index child, or a child of a nested index), pushed by digest before its
/// parent. <see cref="Height"/> is 0 for an image, 1 + the highest child for an index: steps are pushed in
/// waves of increasing height, so every manifest's children are in the registry before it.
/// </summary>
public sealed record ManifestStep(Manifest Manifest, string? Platform, bool AlreadyThere, int Height = 0);

/// <summary>A tag that will point at a new digest; <see cref="Previous"/> is what it pointed at, if anything.</summary>
public sealed record TagMove(string Reference, Digest? Previous, Digest Next)
{
    /// <summary>True when the tag already points at <see cref="Next"/>: nothing to write.</summary>
    public bool IsNoop => Previous == Next;
}

/// <summary>
/// The whole copy as data: what exists, what moves, what is skipped. A dry run prints it; a real run
/// carries it out in order: blobs, then child manifests by digest, then the top manifest, the tag last.
/// </summary>
public sealed record CopyPlan(
    string Source, ImageReference Destination, Manifest Top,
    IReadOnlyList<ManifestStep> Children, IReadOnlyList<BlobStep> Blobs, TagMove Tag, bool UpToDate)
{
    /// <summary>The plan as human-readable lines, one per blob, child manifest and tag (what a dry run prints).</summary>
    public IEnumerable<string> Describe()
    {
        if (UpToDate)
        {
            yield return $"{Destination} already points at {Top.Digest}: nothing to write";
            yield break;
        }
        yield return $"copy {Source} ({Top.Digest}) to {Destination.Name}";
        foreach (var b in Blobs)
            yield return $"  blob {Short(b.Blob.Digest)} {Size(b.Blob.Size),10}  {b.Action.ToString().ToLowerInvariant()}: {b.Reason}";
        foreach (var c in Children)
            yield return $"  manifest {Short(c.Manifest.Digest)} {c.Platform ?? "",-14} {(c.AlreadyThere ? "skip: already there" : "push by digest")}";
        yield return Tag.Previous is { } prev
            ? $"  tag {Tag.Reference}: {prev} -> {Tag.Next}"
            : $"  tag {Tag.Reference}: (new) -> {Tag.Next}";
    }

    /// <summary>A digest shortened for log lines: algorithm and the first 12 hex characters (<c>sha256:0123456789ab</c>).</summary>
    public static string Short(Digest d) => d.Algorithm + ":" + d.Encoded[..12];

    /// <summary>A byte count in binary units for log lines (<c>12.3 MiB</c>).</summary>
    public static string Size(long bytes) => HumanSize.Bytes(bytes);
}
