using System.Text;
using ImagePromotion.Registry;

namespace ImagePromotion.GitOps.PullRequests;

/// <summary>
/// What a promotion is, in words a reviewer can approve: which service, into which environment, which
/// exact digest from where, which manifests change and which run did it. One source for the commit
/// message, the pull request title and its body, so they never disagree.
/// </summary>
public sealed record PromotionDescription(string Service, string Environment, string SourceImage, string TargetImage, IReadOnlyList<string> ManifestPaths)
{
    /// <summary>The environment the digest comes from; null for the first environment (straight from the build).</summary>
    public string? SourceEnvironment { get; init; }
    /// <summary>Link to the CI run that promoted, shown in the pull request body.</summary>
    public string? RunUrl { get; init; }
    /// <summary>Who triggered the promotion, shown in the pull request body.</summary>
    public string? TriggeredBy { get; init; }

    /// <summary>The promoted digest, which the target image must pin.</summary>
    public Digest Digest => ImageReference.Parse(TargetImage).Digest
        ?? throw new PromotionException($"The target image '{TargetImage}' of {Service} has no digest; promote by digest (name@sha256:...) so every environment runs the same bytes.");

    /// <summary>The first 12 hex characters of <see cref="Digest"/>.</summary>
    public string ShortDigest => Digest.Encoded.Length > 12 ? Digest.Encoded[..12] : Digest.Encoded;

    /// <summary><c>Promote SERVICE to ENVIRONMENT (sha256:0123456789ab)</c>: the pull request title and the commit subject.</summary>
    public string Title => $"Promote {Service} to {Environment} ({Digest.Algorithm}:{ShortDigest})";

    /// <summary>The commit message: <see cref="Title"/>, a blank line, then service, environment, images, manifests and run, one per line.</summary>
    public string CommitMessage
    {
        get
        {
            var text = new StringBuilder(Title).Append("\n\n");
            text.Append("Service: ").Append(Service).Append('\n');
            text.Append("Environment: ").Append(SourceEnvironment == null ? Environment : SourceEnvironment + " -> " + Environment).Append('\n');
            text.Append("Source image: ").Append(SourceImage).Append('\n');
            text.Append("Target image: ").Append(TargetImage).Append('\n');
            foreach (var path in ManifestPaths) text.Append("Manifest: ").Append(path).Append('\n');
            if (RunUrl != null) text.Append("Run: ").Append(RunUrl).Append('\n');
            if (TriggeredBy != null) text.Append("Triggered-by: ").Append(TriggeredBy).Append('\n');
            return text.ToString().TrimEnd('\n');
        }
    }

    /// <summary>Markdown in the spirit of Port's promotion guide: a summary line, a details table, the files.</summary>
    public string PullRequestBody
    {
        get
        {
            var body = new StringBuilder();
            // Every value is escaped (Ci.MarkdownText): reviewers approve what this body says, so no value may render as a link or markup.
            body.Append("## 🚀 Promote ").Append(Code(Service)).Append(" to **").Append(Text(Environment)).Append("**\n\n");
            body.Append("This pull request updates the GitOps manifests so that **").Append(Text(Environment))
                .Append("** runs the exact image digest already running in **").Append(Text(SourceEnvironment ?? "the previous environment")).Append("**.\n\n");
            body.Append("| | |\n|---|---|\n");
            Row(body, "Service", Code(Service));
            Row(body, "Environment", Text(SourceEnvironment == null ? Environment : $"{SourceEnvironment} → {Environment}"));
            Row(body, "Source image", Code(SourceImage));
            Row(body, "Target image", Code(TargetImage));
            Row(body, "Digest", Code(Digest.ToString()));
            if (TriggeredBy != null) Row(body, "Triggered by", "@" + Text(TriggeredBy.TrimStart('@')));
            if (RunUrl != null) Row(body, "Pipeline run", Ci.MarkdownText.Link(RunUrl));
            body.Append("\n### Manifests changed\n\n");
            foreach (var path in ManifestPaths) body.Append("- ").Append(Code(path)).Append('\n');
            body.Append("\n_Opened by image-promotion. Merging this pull request deploys the digest above; the image is not rebuilt._\n");
            return body.ToString();
        }
    }

    private static string Code(string text) => Ci.MarkdownText.Code(text);

    private static string Text(string text) => Ci.MarkdownText.Escape(text);

    // Values are escaped already (a pipe included), so the row is put together as it is.
    private static void Row(StringBuilder body, string name, string value) =>
        body.Append("| ").Append(name).Append(" | ").Append(value).Append(" |\n");
}
