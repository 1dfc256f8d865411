using ImagePromotion.Configuration;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

namespace ImagePromotion.Pipeline.Status;

/// <summary>
/// Reads the status table's rows: what each application × environment × image tag points at, then the release the
/// release environments run. A registry that does not answer becomes a row ("unreachable: reason"), asked once per run,
/// so one registry down never hides the others. Read-only: nothing is written anywhere.
/// </summary>
internal sealed class StatusReader(PromotionSession session, ReleasePlanner planner)
{
    /// <summary>How many release tags, newest first, are compared with what runs before the newest is shown instead.</summary>
    private const int ReleaseCandidates = 20;

    private readonly Dictionary<string, string> _unreachable = new(StringComparer.OrdinalIgnoreCase);

    public async Task<IReadOnlyList<StatusRow>> ReadAsync(Model.ReleaseSelection selection, CancellationToken ct)
    {
        var rows = new List<StatusRow>();
        var config = session.Config;
        var releaseTargets = config.Targets(config.Release.Environment).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var app in selection.Applications(config))
        {
            var releases = new List<StatusRow>();
            foreach (var env in config.Environments)
            {
                var running = new Dictionary<string, Digest>(StringComparer.Ordinal);
                foreach (var image in app.Images)
                {
                    var reference = session.Reference(app, image, env);
                    var (head, problem) = await TryAsync(env, c => c.HeadManifestAsync(reference.Repository, reference.Tag!, ct)).ConfigureAwait(false);
                    rows.Add(new StatusRow(app.Name, env.Name, image.Name, reference.ToString(), head?.Digest.ToString()) { Problem = problem });
                    if (head is not null) running[image.Name] = head.Digest;
                }
                if (releaseTargets.Contains(env.Name) && running.Count == app.Images.Count)
                    releases.AddRange(await ReleaseRowsAsync(app, env, running, releaseTargets.Count == 1 ? "release" : $"release:{env.Name}", ct).ConfigureAwait(false));
            }
            rows.AddRange(releases);
        }
        return rows;
    }

    /// <summary>
    /// The release <paramref name="environment"/> runs: the newest release tag marking every image's running digest
    /// (after a rollback an earlier release, not the newest). When no tag marks it (promoted, not yet tagged), the newest
    /// release is shown, and its digests then differ from the environment's.
    /// </summary>
    private async Task<IEnumerable<StatusRow>> ReleaseRowsAsync(ApplicationSettings app, EnvironmentSettings environment,
        IReadOnlyDictionary<string, Digest> running, string label, CancellationToken ct)
    {
        var first = session.Reference(app, app.Images[0], environment);
        var (tags, _) = await TryAsync(environment, c => planner.ReleaseTagsAsync(c, first, ct)).ConfigureAwait(false);
        if (tags is null || tags.Count == 0) return [];
        IReadOnlyDictionary<string, Digest?>? shown = null;
        var tag = tags[^1];
        foreach (var candidate in tags.Reverse().Take(ReleaseCandidates))
        {
            var (digests, _) = await TryAsync(environment, _ => planner.ReleaseDigestsAsync(app, environment, candidate, ct)).ConfigureAwait(false);
            if (candidate == tags[^1]) shown = digests;
            if (digests is null || !app.Images.All(i => digests[i.Name] == running[i.Name])) continue;
            (tag, shown) = (candidate, digests);
            break;
        }
        return app.Images.Select(i => new StatusRow(app.Name, label, i.Name,
            session.Reference(app, i, environment).WithTag(tag).ToString(), shown?.GetValueOrDefault(i.Name)?.ToString()));
    }

    /// <summary>
    /// One read from the environment's registry. A registry that gave no answer (refused, reset, timed out) is
    /// remembered: the rest of its rows get the same reason without another round of retries.
    /// </summary>
    private async Task<(T? Value, string? Problem)> TryAsync<T>(EnvironmentSettings environment, Func<RegistryClient, Task<T?>> read) where T : class
    {
        var host = session.Config.RegistryOf(environment).Host;
        if (_unreachable.TryGetValue(host, out var known)) return (null, known);
        try
        {
            return (await read(session.Client(environment)).ConfigureAwait(false), null);
        }
        catch (RegistryException ex) when (ex.Status is null)
        {
            var problem = "unreachable: " + Reason(ex);
            _unreachable[host] = problem;
            return (null, problem);
        }
    }

    /// <summary>The innermost cause, without the host (the reference column names it): "Connection refused", "no answer within 120 s".</summary>
    internal static string Reason(RegistryException ex)
    {
        var reason = RegistryRetry.Innermost(ex.InnerException ?? ex);
        foreach (var host in new[] { ex.Registry, Registry.Profiles.RegistryProfiles.ApiHost(ex.Registry) })
            reason = reason.Replace($" ({host})", "", StringComparison.Ordinal).Replace($" from {host}", "", StringComparison.Ordinal);
        return reason;
    }
}
