using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline;

/// <summary>
/// Rollback by promotion: an earlier release (by its release tag, or the newest release that is not what runs
/// now) goes back into the release environment through the gates the configuration names for rollbacks.
/// </summary>
public sealed class Rollback(PromotionSession session, TimeProvider? clock = null)
{
    public async Task<GatedPromotionOutcome> RunAsync(string? toRelease, bool previous, bool? autoMerge, CancellationToken ct)
    {
        if ((toRelease is null) == !previous)
            throw new PromotionException("Rollback needs exactly one of --to-release=release-YYYYMMDD-HHMMSS or --previous: say which release to go back to");
        var config = session.Config;
        var env = config.Environment(config.Release.Environment);
        var current = session.Reference(env);
        var client = session.Client(env);
        var running = (await client.HeadManifestAsync(current.Repository, current.Tag!, ct).ConfigureAwait(false))?.Digest;
        var releases = (await client.ListTagsAsync(current.Repository, ct).ConfigureAwait(false))
            .Where(t => t.StartsWith(config.Release.TagPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

        string tag;
        Digest digest;
        if (toRelease is not null)
        {
            if (!releases.Contains(toRelease, StringComparer.Ordinal))
                throw new PromotionException($"--to-release={toRelease}: {current.Name} has no such tag (releases: {(releases.Length == 0 ? "none" : string.Join(", ", releases.TakeLast(5)))}): pass an existing release tag");
            tag = toRelease;
            digest = (await client.HeadManifestAsync(current.Repository, tag, ct).ConfigureAwait(false))!.Digest;
        }
        else
        {
            (string Tag, Digest Digest)? found = null;
            foreach (var candidate in releases.Reverse())
            {
                var d = (await client.HeadManifestAsync(current.Repository, candidate, ct).ConfigureAwait(false))?.Digest;
                if (d is { } x && x != running) { found = (candidate, x); break; }
            }
            (tag, digest) = found ?? throw new PromotionException($"--previous: {current.Name} has no release other than the one {env.Name} runs ({running?.ToString() ?? "nothing"}): pass --to-release=TAG, or release first");
        }

        session.Log.Information($"rollback: {env.Name} runs {running?.ToString() ?? "nothing"}; going back to {tag} ({digest})");
        var outcome = await new GatedPromotion(session, clock).PromoteAsync(new GatedPromotionRequest(env.Name, env.Name)
        {
            Kind = "rollback", Source = current.WithTagAndDigest(tag, digest), Digest = digest, AutoMerge = autoMerge,
            OnlyGates = env.Gates?.RollbackGates,
        }, ct).ConfigureAwait(false);
        if (!outcome.Refused && outcome.Copy is { } copy)
            session.Log.Information(copy.UpToDate ? $"rollback: {current} already runs {digest}; nothing replaced"
                : $"rollback: {current} now {digest} ({tag}); replaced {copy.PreviousDigest ?? "nothing"}");
        return outcome;
    }
}
