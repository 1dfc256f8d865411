using ImagePromotion.Copy;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>One tag the step moved: where, from what, to what.</summary>
public sealed record MovedTag(string Reference, Digest? Previous, Digest Next);

/// <summary>
/// The tag-move step, last of a release's registry writes: each image's tag is pointed at the digest copied
/// before (a pure manifest write in the target repository, guarded against a concurrent move). If one move
/// fails, the tags this step already moved are put back where they were, and the error says exactly which tags
/// moved, which were put back and which could not be.
/// </summary>
public sealed class MoveTags(PromotionSession session)
{
    /// <summary>Moves every tag of <paramref name="images"/> that does not already point at its digest.</summary>
    /// <exception cref="PromotionException">a move failed; the message lists what was put back.</exception>
    public async Task<IReadOnlyList<MovedTag>> RunAsync(IReadOnlyList<ImagePlan> images, CancellationToken ct)
    {
        var moved = new List<MovedTag>();
        foreach (var image in images.Where(i => !i.UpToDate))
        {
            var digest = image.Digest.Value!.Value;
            var destination = ImageReference.Parse(image.Destination);
            try
            {
                var result = await session.Copier.CopyAsync(destination.WithDigest(digest), destination,
                    new CopyOptions { AllowTagMove = image.TagMayMove, GuardTag = true }, ct).ConfigureAwait(false);
                moved.Add(new MovedTag(image.Destination, result.PreviousDigest is { } p ? Digest.Parse(p) : image.Tag.Old, digest));
                session.Log.Information($"{image.Destination} -> {digest} (replaced {result.PreviousDigest ?? "nothing"})");
            }
            catch (Exception ex) when (ex is PromotionException or HttpRequestException or IOException)
            {
                var restored = await RestoreAsync(moved, ct).ConfigureAwait(false);
                throw new PromotionException($"moving {image.Destination} to {digest} failed ({ex.Message}); {restored}", ex);
            }
        }
        return moved;
    }

    /// <summary>Puts the moved tags back (newest first) and says what happened to each.</summary>
    private async Task<string> RestoreAsync(IReadOnlyList<MovedTag> moved, CancellationToken ct)
    {
        if (moved.Count == 0) return "no tag of this release had moved: every tag is as it was";
        var notes = new List<string>();
        foreach (var tag in moved.Reverse())
        {
            var reference = ImageReference.Parse(tag.Reference);
            if (tag.Previous is not { } previous)
            {
                notes.Add($"{tag.Reference} was new and still points at {tag.Next} (registries have no portable tag delete: remove it by hand)");
                continue;
            }
            try
            {
                await session.Copier.CopyAsync(reference.WithDigest(previous), reference, new CopyOptions { AllowTagMove = true }, ct).ConfigureAwait(false);
                notes.Add($"{tag.Reference} put back to {previous}");
            }
            catch (Exception ex) when (ex is PromotionException or HttpRequestException or IOException)
            {
                notes.Add($"{tag.Reference} could NOT be put back to {previous} ({ex.Message}): point it back by hand");
            }
        }
        return string.Join("; ", notes);
    }
}
