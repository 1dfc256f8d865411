using ImagePromotion.Logging;

namespace ImagePromotion.Port;

/// <summary>
/// Reports a promotion to Port without ever deciding its outcome: Port being down, slow or refusing the
/// credentials is a warning, because a digest that reached production got there whatever Port says.
/// Every method returns whether Port took the report.
/// </summary>
public sealed class PortReporter : IDisposable
{
    /// <summary>The blueprint of the runtime entities that are pointed at images.</summary>
    public const string RunningServiceBlueprint = "running_service";
    /// <summary>The relation from a running service to the image it runs.</summary>
    public const string ImageRelation = "image";

    private readonly PortClient? _client;
    private readonly IPipelineLog _log;
    private bool _unavailable;
    private bool _credentialsRejected;

    /// <summary>A reporter on <paramref name="client"/>; null turns every call into a no-op.</summary>
    /// <param name="client">The Port client; null: Port is not configured.</param>
    /// <param name="runId">The action run to report to; blank: no run reports.</param>
    /// <param name="log">Where warnings go when Port does not take a report.</param>
    public PortReporter(PortClient? client, string? runId, IPipelineLog log)
    {
        _client = client;
        RunId = string.IsNullOrWhiteSpace(runId) ? null : runId.Trim();
        _log = log ?? throw new ArgumentNullException(nameof(log));
    }

    /// <summary>
    /// A reporter for this run: off (every call a no-op) without credentials, and without a run id it
    /// still updates the catalog but reports no run.
    /// </summary>
    public static PortReporter Create(PortOptions? options, string? runId, IPipelineLog log)
    {
        if (options is null)
        {
            if (!string.IsNullOrWhiteSpace(runId))
                log.Warning($"Port run {runId} will not be updated: PORT_CLIENT_ID and PORT_CLIENT_SECRET are not set");
            return new PortReporter(null, runId, log);
        }
        return new PortReporter(new PortClient(options), runId, log);
    }

    /// <summary>The Port action run this pipeline run reports to (port_payload.runId), if any.</summary>
    public string? RunId { get; }
    /// <summary>True when progress is reported to an action run (credentials and a run id).</summary>
    public bool ReportsRun => _client is not null && RunId is not null;
    /// <summary>True when catalog entities are updated (credentials given).</summary>
    public bool UpdatesCatalog => _client is not null;

    /// <summary>Adds a line to the run's log in Port.</summary>
    public Task<bool> LogAsync(string message, CancellationToken cancellationToken = default) =>
        ReportsRun && !_unavailable
            ? TryAsync("log line", () => _client!.AddRunLogAsync(RunId!, message, cancellationToken: cancellationToken))
            : Task.FromResult(false);

    /// <summary>Ends the run as SUCCESS with links (the CI run, the pull request) shown on its page.</summary>
    public Task<bool> SucceedAsync(string message, string? statusLabel = null, IReadOnlyList<string>? links = null, string? summary = null, CancellationToken cancellationToken = default) =>
        FinishAsync(PortRunStatus.Success, message, statusLabel ?? "Promoted", links, summary, cancellationToken);

    /// <summary>Ends the run as FAILURE; the reason is the pipeline's one-line error.</summary>
    public Task<bool> FailAsync(string reason, IReadOnlyList<string>? links = null, CancellationToken cancellationToken = default) =>
        FinishAsync(PortRunStatus.Failure, "Promotion failed: " + reason, "Failed", links, reason, cancellationToken);

    /// <summary>Points the running_service entity at the promoted image entity (its <c>image</c> relation).</summary>
    public async Task<bool> SetRunningServiceImageAsync(string runningService, string imageEntity, CancellationToken cancellationToken = default)
    {
        if (_client is null || _unavailable) return false;
        return await TryAsync($"{RunningServiceBlueprint} '{runningService}' image relation", () =>
            _client.SetRelationAsync(RunningServiceBlueprint, runningService, ImageRelation, imageEntity, RunId, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Reads an entity, or null when Port has none or cannot be reached (with a warning).</summary>
    public async Task<PortEntity?> GetEntityAsync(string blueprint, string identifier, CancellationToken cancellationToken = default)
    {
        if (_client is null || _unavailable) return null;
        PortEntity? entity = null;
        await TryAsync($"{blueprint} '{identifier}' lookup", async () =>
            entity = await _client.GetEntityAsync(blueprint, identifier, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return entity;
    }

    private async Task<bool> FinishAsync(PortRunStatus status, string message, string statusLabel, IReadOnlyList<string>? links, string? summary, CancellationToken cancellationToken)
    {
        if (!ReportsRun || _credentialsRejected) return false;
        // The final status is worth one more try even after an outage: it is what people look at.
        var logged = await TryAsync("log line", () => _client!.AddRunLogAsync(RunId!, message, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!logged && _unavailable) return false;
        return await TryAsync($"{status.Wire()} status", () =>
            _client!.PatchRunAsync(RunId!, status, statusLabel, links, summary, cancellationToken)).ConfigureAwait(false);
    }

    private async Task<bool> TryAsync(string what, Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
            return true;
        }
        catch (PortApiException e)
        {
            // After an outage the next calls would each wait out the timeout; stop asking for this run.
            if (e.IsOutage || e.StatusCode is null) _unavailable = true;
            if (e.StatusCode is 401 or 403) _unavailable = _credentialsRejected = true;
            _log.Warning($"Port {what} not reported: {e.Message}");
            return false;
        }
        catch (PromotionException e)
        {
            _log.Warning($"Port {what} not reported: {e.Message}");
            return false;
        }
    }

    /// <summary>Disposes the Port client.</summary>
    public void Dispose() => _client?.Dispose();
}
