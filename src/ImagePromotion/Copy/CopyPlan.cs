using System.Globalization;
using ImagePromotion.Registry;

namespace ImagePromotion.Copy;

public enum BlobAction { Skip, Mount, Copy }

/// <summary>What will happen to one blob, decided before anything is written.</summary>
public sealed record BlobStep(Descriptor Blob, BlobAction Action, string Reason);

/// <summary>A manifest below the top one (an index child), pushed by digest before its parent.</summary>
public sealed record ManifestStep(Manifest Manifest, string? Platform, bool AlreadyThere);

/// <summary>A tag that will point at a new digest; <see cref="Previous"/> is what it pointed at, if anything.</summary>
public sealed record TagMove(string Reference, Digest? Previous, Digest Next)
{
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

    public static string Short(Digest d) => d.Algorithm + ":" + d.Encoded[..12];

    // Invariant: a plan reads the same in every CI runner's locale ("1.5 KiB", never "1,5 KiB").
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024:0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024 / 1024:0.00} GiB"),
    };
}
