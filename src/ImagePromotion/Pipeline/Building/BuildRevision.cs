using System.Text.Json;
using ImagePromotion.Copy;
using ImagePromotion.Processes;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Building;

/// <summary>
/// Which commit an image was built from, as the image itself says: the OCI annotation keys used as image
/// labels, <c>org.opencontainers.image.revision</c> (the commit) and <c>org.opencontainers.image.source</c>
/// (the repository URL). BuildOnce writes them; an existing build (the dev tag <c>git-&lt;sha&gt;</c>, or an OCI
/// layout handed over by an earlier CI stage) is re-used only when its revision label is the commit, so a tag
/// that another job filled with another commit's sources is never promoted as this commit.
/// </summary>
public static class BuildRevision
{
    /// <summary>The label naming the commit an image was built from (OCI image annotation key).</summary>
    public const string RevisionLabel = "org.opencontainers.image.revision";
    /// <summary>The label naming the repository an image was built from (OCI image annotation key).</summary>
    public const string SourceLabel = "org.opencontainers.image.source";

    /// <summary>True when both name the same commit: equal ignoring case, or one an abbreviation (7+ hex digits) of the other.</summary>
    public static bool Matches(string? a, string? b)
    {
        if (string.IsNullOrWhiteSpace(a) || string.IsNullOrWhiteSpace(b)) return false;
        a = a.Trim(); b = b.Trim();
        var (shorter, longer) = a.Length <= b.Length ? (a, b) : (b, a);
        return shorter.Length >= 7 && longer.StartsWith(shorter, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The labels BuildOnce gives the image: the commit, and the repository URL when one is known.</summary>
    public static IReadOnlyDictionary<string, string> Labels(string commit, string? source)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { [RevisionLabel] = commit };
        if (!string.IsNullOrWhiteSpace(source)) labels[SourceLabel] = source;
        return labels;
    }

    /// <summary>
    /// The repository URL for the source label: GitHub's server and repository, else the checkout's
    /// <c>origin</c> remote. Credentials in a remote URL (<c>https://user:token@host/…</c>) are dropped: a label
    /// travels with the image to every registry it is promoted to.
    /// </summary>
    public static async Task<string?> SourceUrlAsync(IReadOnlyDictionary<string, string?> environment, string checkoutDirectory, CancellationToken ct)
    {
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        if (Get("GITHUB_REPOSITORY") is { } repository)
            return $"{(Get("GITHUB_SERVER_URL") ?? "https://github.com").TrimEnd('/')}/{repository}";
        if (!Directory.Exists(checkoutDirectory) || !ProcessRunner.Exists("git")) return null;
        var remote = await ProcessRunner.RunAsync("git", ["remote", "get-url", "origin"], checkoutDirectory, ct: ct).ConfigureAwait(false);
        var url = remote.ExitCode == 0 ? remote.Output.Trim() : "";
        if (url.Length == 0) return null;
        if (Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" or "ssh" or "git")
            return new UriBuilder(parsed) { UserName = "", Password = "" }.Uri.ToString().TrimEnd('/');
        // scp-like "git@host:owner/repo.git" has no password to drop; a local path is no URL worth labelling.
        return url.Contains('@') && url.Contains(':') && !url.Contains("://") ? url : null;
    }

    /// <summary>The revision label of the image <paramref name="reference"/> in <paramref name="source"/> (null: no label, or no image config).</summary>
    public static async Task<string?> ReadAsync(IImageSource source, string reference, Digest? expected, CancellationToken ct)
    {
        var manifest = await source.GetManifestAsync(reference, expected, ct).ConfigureAwait(false);
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            // A multi-platform build: every platform comes from the same build, so the first image's config speaks for it.
            var first = manifest.Manifests.FirstOrDefault(m => MediaTypes.IsImageManifest(m.MediaType));
            if (first is null) return null;
            manifest = await source.GetManifestAsync(first.Digest.ToString(), first.Digest, ct).ConfigureAwait(false);
        }
        if (manifest.Config is not { } config || config.Size > 4 * 1024 * 1024) return null;
        await using var blob = await source.OpenBlobAsync(config, ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await blob.Stream.CopyToAsync(buffer, ct).ConfigureAwait(false);
        if (!config.Digest.Matches(buffer.ToArray()))
            throw new PromotionException($"config {config.Digest} of {source.Name} ({reference}) does not match its digest: the source served other content");
        try
        {
            using var doc = JsonDocument.Parse(buffer.ToArray());
            return doc.RootElement.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
                && c.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object
                && labels.TryGetProperty(RevisionLabel, out var revision) && revision.ValueKind == JsonValueKind.String
                ? revision.GetString() : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Refuses to re-use <paramref name="what"/> (a tag, or a layout entry) for <paramref name="commit"/> unless its revision
    /// label is that commit: the one line names the tag, the label and the commit.
    /// </summary>
    public static async Task RequireAsync(IImageSource source, string reference, Digest? expected, string commit, string what, CancellationToken ct)
    {
        var label = await ReadAsync(source, reference, expected, ct).ConfigureAwait(false);
        if (!Matches(label, commit))
            throw new PromotionException($"{what} exists but its {RevisionLabel} label is {(label is null ? "absent" : $"'{label}'")}, not commit {commit}: "
                + "it holds another build, so it is not re-used; delete that tag (or build another commit) and run again");
    }
}
