using ImagePromotion.Configuration;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Model;

/// <summary>
/// What one run promotes: which applications (<c>--application=NAME</c>, default all), and a digest pinned
/// from the command line (<c>--digest</c>, or the digest of <c>--image=REF@digest</c>, as the CI pipelines pass it).
/// </summary>
public sealed record ReleaseSelection
{
    /// <summary>Only this application; null: every application of the configuration.</summary>
    public string? Application { get; init; }

    /// <summary>A digest to promote instead of what the source environment's tag points at.</summary>
    public Digest? Digest { get; init; }

    /// <summary>The image the digest was given for (its repository names the image); null: the only image of the application.</summary>
    public ImageReference? Image { get; init; }

    /// <summary>The applications this run covers.</summary>
    public IReadOnlyList<ApplicationSettings> Applications(PromotionConfig config) =>
        Application is { } name ? [config.Application(name)] : config.Applications;

    /// <summary>
    /// The digest pinned for <paramref name="image"/> of <paramref name="application"/>, or null to read the source tag.
    /// A pinned digest belongs to one image: the only image, or the one whose repository <see cref="Image"/> names.
    /// </summary>
    public Digest? PinnedFor(ApplicationSettings application, ImageSettings image, Func<ImageSettings, ImageReference> sourceOf)
    {
        if (Digest is not { } digest) return null;
        if (application.Images.Count == 1) return digest;
        if (Image is null)
            throw new PromotionException($"--digest names one image, but application '{application.Name}' has {application.Images.Count} ({string.Join(", ", application.Images.Select(i => i.Name))}): pass --image=REGISTRY/REPOSITORY@sha256:… so the repository says which image it is");
        var match = application.Images.Where(i => sourceOf(i).Repository == Image.Repository).ToArray();
        if (match.Length == 0)
            throw new PromotionException($"--image={Image} names repository {Image.Repository}, which holds no image of application '{application.Name}': pass the reference of one of its images");
        return match[0] == image ? digest : null;
    }
}
