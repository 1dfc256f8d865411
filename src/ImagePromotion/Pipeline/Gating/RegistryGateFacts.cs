using System.Globalization;
using System.Text.Json;
using ImagePromotion.Configuration;
using ImagePromotion.Gates;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Gating;

/// <summary>Registry facts for the gates of one application: image configs, and what an environment runs as this plan sees it.</summary>
public sealed class RegistryGateFacts(PromotionSession session, ApplicationSettings application) : IGateFacts
{
    /// <inheritdoc />
    public ImageReference ReferenceOf(string environment, string image) =>
        session.Reference(application, application.Image(image), session.Config.Environment(environment));

    /// <inheritdoc />
    public async Task<Digest?> RunningDigestAsync(string environment, string image, CancellationToken ct)
    {
        var env = session.Config.Environment(environment);
        return (await session.Planned.ResolveAsync(session.Client(env), ReferenceOf(environment, image), ct).ConfigureAwait(false))?.Value;
    }

    /// <inheritdoc />
    public async Task<ImageConfigFacts> ImageConfigAsync(ImageReference pinned, CancellationToken ct)
    {
        var client = session.Copier.Client(pinned.Registry);
        var manifest = await client.GetManifestAsync(pinned.Repository, pinned.Digest!.Value.ToString(), pinned.Digest, ct).ConfigureAwait(false)
            ?? throw new PromotionException($"{pinned} does not exist: promote an image that is there");
        var none = new ImageConfigFacts(new Dictionary<string, string>(), null);
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            var first = manifest.Manifests.FirstOrDefault(m => MediaTypes.IsImageManifest(m.MediaType));
            if (first is null) return none;
            manifest = await client.GetManifestAsync(pinned.Repository, first.Digest.ToString(), first.Digest, ct).ConfigureAwait(false);
            if (manifest?.Config is null) return none;
        }
        if (manifest.Config is null) return none;
        // Read within the config's stated size (and a ceiling): a body that never ends costs no more.
        var bytes = await client.ReadBlobAsync(pinned.Repository, manifest.Config, Registry.Transport.BodyLimits.Config, ct).ConfigureAwait(false);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        DateTimeOffset? created = null;
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            if (root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
                && c.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
                foreach (var kv in l.EnumerateObject())
                    if (kv.Value.ValueKind == JsonValueKind.String) labels[kv.Name] = kv.Value.GetString()!;
            if (root.TryGetProperty("created", out var t) && t.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(t.GetString(),
                    CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
                created = when;
        }
        catch (JsonException) { /* the scan's config check reports a broken config; labels just stay empty here */ }
        return new ImageConfigFacts(labels, created);
    }
}
