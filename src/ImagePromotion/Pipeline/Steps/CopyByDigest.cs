using ImagePromotion.Copy;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>
/// The copy-by-digest step: every blob and manifest of an image into the target repository, addressed by its
/// digest only, so nothing anyone pulls by tag changes yet. Run for every image of every release before any
/// tag moves: a release whose image cannot be copied leaves every tag as it was.
/// </summary>
public sealed class CopyByDigest(PromotionSession session)
{
    /// <summary>Copies <paramref name="image"/>'s digest into its destination repository; a no-op when the digest is there.</summary>
    public async Task<CopyResult> RunAsync(ImagePlan image, CancellationToken ct)
    {
        var digest = image.Digest.Value ?? throw new InvalidOperationException($"{image.Image}: the plan has no digest to copy");
        var destination = ImageReference.Parse(image.Destination).WithDigest(digest);
        var options = new CopyOptions { AllowTagMove = true, GuardTag = false };
        var result = LayoutReference.TryParse(image.Source, out var layout, out var tag)
            ? await session.Copier.CopyAsync(new LayoutSource(layout), tag, destination, options, ct).ConfigureAwait(false)
            : await session.Copier.CopyAsync(ImageReference.Parse(image.Source).WithDigest(digest), destination, options, ct).ConfigureAwait(false);
        session.Log.Information(result.UpToDate
            ? $"copy {image.Image}: {destination.Name} already holds {digest}"
            : $"copy {image.Image}: {destination} (blobs copied {result.BlobsCopied}, mounted {result.BlobsMounted}, skipped {result.BlobsSkipped}; {result.BytesUploaded} bytes uploaded)");
        return result;
    }
}

/// <summary>The <c>oci:DIR:TAG</c> form a build's source takes in a plan.</summary>
public static class LayoutReference
{
    /// <summary>oci:DIR:TAG.</summary>
    public static string Format(string directory, string tag) => $"oci:{directory}:{tag}";

    /// <summary>True (with the directory and tag) when <paramref name="text"/> is <c>oci:DIR:TAG</c>.</summary>
    public static bool TryParse(string text, out string directory, out string tag)
    {
        directory = tag = "";
        if (!text.StartsWith("oci:", StringComparison.Ordinal) || text.LastIndexOf(':') <= 4) return false;
        directory = text[4..text.LastIndexOf(':')];
        tag = text[(text.LastIndexOf(':') + 1)..];
        return true;
    }
}
