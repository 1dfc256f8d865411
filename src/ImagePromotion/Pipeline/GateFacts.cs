using System.Text.Json;
using ImagePromotion.Configuration;
using ImagePromotion.Evidence;
using ImagePromotion.Gates;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Pipeline;

/// <summary>
/// Gathers what the gates judge, from the registry alone: the image config (labels, build time), the evidence
/// on the digest (scan results, push and promotion records) and the tags of the environments. Nothing local,
/// so a job on another machine reaches the same verdict.
/// </summary>
internal sealed class GateFacts(PromotionSession session, TimeProvider clock)
{
    public PromotionRecord? PushRecord { get; private set; }

    public async Task<PromotionGateInputs> CollectAsync(ImageReference source, Digest candidate, EnvironmentSettings from,
        EnvironmentSettings to, GateSettings gates, bool rollback, CancellationToken ct)
    {
        var pinned = source.WithDigest(candidate);
        var recorder = new PromotionRecorder(session, clock);
        var records = await recorder.ReadAsync(pinned, ct).ConfigureAwait(false);
        PushRecord = records.LastOrDefault(r => r.Kind == "push");
        var (labels, builtAt) = await ImageConfigAsync(pinned, ct).ConfigureAwait(false);
        var scan = await LatestScanAsync(pinned, ct).ConfigureAwait(false);
        var chain = session.Config.Environments.Select(e => e.Name).ToArray();
        var toIndex = Array.IndexOf(chain, to.Name);
        // A rollback moves an earlier release back into the environment: it is judged as coming from the one before.
        var sourceEnvironment = rollback ? (toIndex > 0 ? chain[toIndex - 1] : null) : from.Name;

        var variables = new PromotionVariables
        {
            Environment = to.Name,
            SourceEnvironment = sourceEnvironment,
            Branch = PushRecord?.Branch ?? await PromotionFacts.BranchAsync(session, ct).ConfigureAwait(false),
            Commit = PushRecord?.Commit ?? session.Options.Commit,
            Repository = source.Repository,
            Digest = candidate.ToString(),
            Tags = new[] { source.Tag, PushRecord is null ? null : ImageReference.Parse(PushRecord.ToReference).Tag }.OfType<string>().Distinct().ToArray(),
            Labels = labels,
            BuiltAt = builtAt,
            ScanCounts = scan?.Result.Counts is { } c ? new Dictionary<string, long>
            {
                ["critical"] = c.Critical, ["high"] = c.High, ["medium"] = c.Medium, ["low"] = c.Low, ["unknown"] = c.Unknown, ["info"] = c.Info,
            } : null,
            Builder = PushRecord?.Who,
            Requester = session.Options.Identity,
            Deployer = session.Options.Identity,
        };

        StagingHistory? staging = null;
        var stagingOptions = new StagingGateOptions();
        if (gates.Staging is { } check && !rollback)
        {
            var stagingEnv = session.Config.Environment(check.Environment ?? (toIndex > 0 ? chain[toIndex - 1] : to.Name));
            var direct = Array.IndexOf(chain, from.Name) < Array.IndexOf(chain, stagingEnv.Name);
            // The hotfix path skips the intermediate environments and so their history; only where the policy allows it
            // (the promotion-path gate refuses it otherwise).
            if (!(direct && gates.Policy.AllowDirectPromotion))
            {
                staging = await StagingHistoryAsync(stagingEnv, candidate, ct).ConfigureAwait(false);
                stagingOptions = new StagingGateOptions(check.Window, check.Soak);
            }
        }

        return new PromotionGateInputs
        {
            Policy = gates.Policy,
            Variables = variables,
            Candidate = candidate,
            EnvironmentChain = chain,
            Lock = gates.Lock,
            FreezeWindows = gates.FreezeWindows,
            Staging = staging,
            StagingOptions = stagingOptions,
            Scan = scan is null ? null : new ScanSummary(Digest.Parse(scan.Result.ImageDigest), scan.Result.Passed, scan.Result.ScannedAt,
                string.Join("+", scan.Result.ScannersRun.Select(r => r.Name))),
            ScanMaxAge = gates.ScanMaxAge,
        };
    }

    private sealed record LatestScan(ScanResult Result);

    private async Task<LatestScan?> LatestScanAsync(ImageReference pinned, CancellationToken ct)
    {
        var store = new EvidenceStore(session.Transport, session.Log, clock);
        var verified = await store.ReadVerifiedAsync(pinned, EvidenceTypes.ScanResult, ct).ConfigureAwait(false);
        ScanResult? latest = null;
        foreach (var v in verified)
        {
            try
            {
                var r = ScanResult.FromJson(v.Content!, $"scan result {v.Entry.Manifest.Digest}");
                if (latest is null || r.ScannedAt > latest.ScannedAt) latest = r;
            }
            catch (PromotionException ex) { session.Log.Warning(ex.Message); }
        }
        return latest is null ? null : new LatestScan(latest);
    }

    /// <summary>
    /// Staging's history from the promotion records on the candidate and on what staging runs now. The candidate
    /// left staging when the current digest arrived (a later rollout in between would only make that earlier).
    /// </summary>
    private async Task<StagingHistory> StagingHistoryAsync(EnvironmentSettings stagingEnv, Digest candidate, CancellationToken ct)
    {
        var reference = session.Reference(stagingEnv);
        var head = await session.Client(stagingEnv).HeadManifestAsync(reference.Repository, reference.Tag!, ct).ConfigureAwait(false);
        var recorder = new PromotionRecorder(session, clock);
        var deployments = new List<StagingDeployment>();
        foreach (var digest in new[] { candidate, head?.Digest }.OfType<Digest>().Distinct())
        {
            var records = await recorder.ReadAsync(reference.WithDigest(digest), ct).ConfigureAwait(false);
            deployments.AddRange(records.Where(r => r.To == stagingEnv.Name && r.Outcome is ("promoted" or "up-to-date") && r.Digest == digest.ToString())
                .Select(r => new StagingDeployment(digest, r.When)));
        }
        return new StagingHistory(head?.Digest, deployments);
    }

    private async Task<(IReadOnlyDictionary<string, string> Labels, DateTimeOffset? Created)> ImageConfigAsync(ImageReference pinned, CancellationToken ct)
    {
        var client = session.Copier.Client(pinned.Registry);
        var manifest = await client.GetManifestAsync(pinned.Repository, pinned.Digest!.Value.ToString(), pinned.Digest, ct).ConfigureAwait(false)
            ?? throw new PromotionException($"{pinned} does not exist: promote an image that is there");
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            var first = manifest.Manifests.FirstOrDefault(m => MediaTypes.IsImageManifest(m.MediaType));
            if (first is null) return (new Dictionary<string, string>(), null);
            manifest = await client.GetManifestAsync(pinned.Repository, first.Digest.ToString(), first.Digest, ct).ConfigureAwait(false);
            if (manifest is null) return (new Dictionary<string, string>(), null);
        }
        // Read within the config's stated size (and a ceiling): a body that never ends costs no more.
        var bytes = await client.ReadBlobAsync(pinned.Repository, manifest.Config!, ImagePromotion.Registry.Transport.BodyLimits.Config, ct).ConfigureAwait(false);
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
                    System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var when))
                created = when;
        }
        catch (JsonException) { /* the scan's config check reports a broken config; labels just stay empty here */ }
        return (labels, created);
    }
}
