using ImagePromotion.Registry;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// An image reference as the user spelled it, split into name, tag and digest without normalising, so
/// that what lands in a manifest is exactly what was asked for (<c>nginx</c> stays <c>nginx</c>).
/// </summary>
public sealed record ImageText(string Text, string Name, string? Tag, string? Digest, ImageReference Reference)
{
    /// <summary>Splits <paramref name="text"/> at the last <c>@</c> (digest) and the last <c>:</c> after the last <c>/</c> (tag), keeping the spelling.</summary>
    /// <exception cref="PromotionException">The text is not a valid image reference.</exception>
    public static ImageText Parse(string text)
    {
        var reference = ImageReference.Parse(text);
        var rest = text;
        string? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0) { digest = rest[(at + 1)..]; rest = rest[..at]; }
        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/')) { tag = rest[(colon + 1)..]; rest = rest[..colon]; }
        return new ImageText(text, rest, tag, digest, reference);
    }

    /// <summary>The registry host as written (<c>docker.io</c> when none is) and the repository path after it.</summary>
    public (string Registry, string Path) SplitRegistry()
    {
        var slash = Name.IndexOf('/');
        if (slash > 0)
        {
            var first = Name[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost") return (first, Name[(slash + 1)..]);
        }
        return (ImageReference.DockerHub, Name);
    }

    /// <summary>True when <paramref name="other"/> (an image or bare name) names the same repository.</summary>
    public bool SameRepository(string? other) => SameRepository(Name, other);

    /// <summary>True when both parse as image references with the same normalised name (<c>nginx</c> and <c>docker.io/library/nginx</c> match); false when either does not parse.</summary>
    public static bool SameRepository(string? a, string? b) =>
        a is not null && b is not null
        && ImageReference.TryParse(a, out var ra) && ImageReference.TryParse(b, out var rb)
        && ra!.Name == rb!.Name;
}
