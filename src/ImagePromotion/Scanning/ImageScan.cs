using ImagePromotion.Logging;
using ImagePromotion.Registry;

namespace ImagePromotion.Scanning;

/// <summary>
/// The Scan phase for one image digest. The caller (which owns the registry client) feeds it the config blob,
/// each layer blob as a stream, and runs the external scanners through it; <see cref="Complete"/> applies the
/// policy and gives the one result for the digest.
/// </summary>
public sealed class ImageScan
{
    /// <summary>The scanner name of the built-in secret check in results.</summary>
    public const string SecretsCheck = "builtin-secrets";
    /// <summary>The scanner name of the built-in config check in results.</summary>
    public const string ConfigCheck = "builtin-config";

    private readonly Digest _image;
    private readonly ScanPolicy _policy;
    private readonly BuiltInRuleSettings _rules;
    private readonly TimeProvider _clock;
    private ScanJudgement? _judgement;
    private readonly IPipelineLog? _log;
    // Callers may scan layers concurrently; every mutation of the collected state takes this lock.
    private readonly object _gate = new();
    private readonly List<Finding> _findings = new();
    private readonly List<ScannerRun> _runs = new();
    private readonly List<SkippedScanner> _skipped = new();
    private int _secretFindings;
    private int _layersScanned;
    private bool _secretsFailed;

    /// <summary>A scan of <paramref name="image"/>.</summary>
    /// <param name="image">The manifest digest the result is about.</param>
    /// <param name="policy">Thresholds and allowlist; <see cref="ScanPolicy.Default"/> (block criticals) when null.</param>
    /// <param name="rules">Built-in rule overrides; defaults when null.</param>
    /// <param name="clock">The time the result is stamped with and allowlist expiry is judged at; the system clock when null.</param>
    /// <param name="log">Where skipped layers are logged; nothing when null.</param>
    public ImageScan(Digest image, ScanPolicy? policy = null, BuiltInRuleSettings? rules = null, TimeProvider? clock = null, IPipelineLog? log = null)
    {
        _image = image;
        _policy = policy ?? ScanPolicy.Default;
        _rules = rules ?? BuiltInRuleSettings.Default;
        _clock = clock ?? TimeProvider.System;
        _log = log;
    }

    /// <summary>Records the required scanners in the result's judgement (with the policy and rules given to the constructor).</summary>
    public ImageScan Requiring(IReadOnlyList<ScannerCommand>? scanners)
    {
        _judgement = ScanJudgement.Of(_policy, _rules, scanners);
        return this;
    }

    /// <summary>Runs the config hygiene rules on the image config blob (JSON) and records the findings.</summary>
    /// <param name="configJson">The config blob's bytes.</param>
    /// <param name="configName">How messages name the blob.</param>
    /// <exception cref="PromotionException">The blob is not a JSON object.</exception>
    public void InspectConfig(ReadOnlyMemory<byte> configJson, string configName = "image config")
    {
        var found = new ImageConfigInspector(_rules).Inspect(configJson, configName);
        lock (_gate)
        {
            _findings.AddRange(found);
            _runs.Add(new ScannerRun(ConfigCheck, true, found.Count));
        }
    }

    /// <summary>
    /// Scans one layer; a layer that cannot be scanned (zstd) is recorded as skipped with the reason, and one
    /// that cannot be read (corrupt) also fails the secrets check.
    /// </summary>
    public async Task<LayerScanResult> ScanLayerAsync(Digest layer, string mediaType, Stream blob, CancellationToken cancellationToken = default)
    {
        LayerScanResult result;
        try
        {
            result = await new LayerSecretScanner(_rules, _log).ScanAsync(layer, mediaType, blob, cancellationToken);
        }
        catch (PromotionException ex)
        {
            // An unreadable layer fails the secrets check (so the scan fails) instead of aborting the phase:
            // the result still records everything else that ran.
            lock (_gate)
            {
                _secretsFailed = true;
                _skipped.Add(new SkippedScanner(SecretsCheck, ex.Message));
            }
            _log?.Warning("scan: " + ex.Message);
            return new LayerScanResult(layer, mediaType, [], 0, 0, 0, ex.Message);
        }
        lock (_gate)
        {
            if (result.SkippedReason is not null) _skipped.Add(new SkippedScanner(SecretsCheck, result.SkippedReason));
            else _layersScanned++;
            _findings.AddRange(result.Findings);
            _secretFindings += result.Findings.Count;
        }
        return result;
    }

    /// <summary>
    /// Runs the configured scanners; a configured scanner that is missing fails. With none configured, runs every
    /// known scanner that is installed and records the others as skipped.
    /// </summary>
    public async Task RunScannersAsync(ScannerRunner runner, ImageReference image, IReadOnlyList<ScannerCommand>? configured = null,
        ScannerCredentials? credentials = null, CancellationToken cancellationToken = default)
    {
        if (image.Digest != _image)
            throw new PromotionException($"scan target '{image}' is not the image being scanned ({_image}); pass the same digest");
        IReadOnlyList<ScannerCommand> commands = configured ?? [];
        if (commands.Count == 0)
        {
            var availability = ScannerAvailability.Detect(runner.PathVariable);
            commands = availability.Installed;
            lock (_gate) _skipped.AddRange(availability.Skipped);
            foreach (var s in availability.Skipped) _log?.Information($"scan: skipping {s.Name}: {s.Reason}");
        }
        foreach (var command in commands)
            AddExternal(await runner.RunAsync(command, image, credentials, cancellationToken));
    }

    /// <summary>Records a scanner run made elsewhere (or a report file read with <see cref="ScanReportParser"/>).</summary>
    public void AddExternal(ExternalScanResult result)
    {
        lock (_gate)
        {
            if (result.Report is { } report) _findings.AddRange(report.Findings);
            _runs.Add(new ScannerRun(result.Scanner, result.Succeeded, result.Report?.Findings.Count ?? 0, result.FailureReason));
        }
    }

    /// <summary>Records a scanner that was not run and why; the result lists it.</summary>
    public void Skip(string scanner, string reason)
    {
        lock (_gate) _skipped.Add(new SkippedScanner(scanner, reason));
    }

    /// <summary>Applies the policy to every finding so far and gives the result: failed on any exceeded threshold or failed scanner, or when nothing was scanned.</summary>
    public ScanResult Complete()
    {
        List<ScannerRun> runs;
        List<SkippedScanner> skipped;
        Finding[] findings;
        lock (_gate)
        {
            runs = new List<ScannerRun>(_runs);
            skipped = new List<SkippedScanner>(_skipped);
            findings = _findings.ToArray();
            if (_layersScanned > 0 || _secretsFailed)
                runs.Add(new ScannerRun(SecretsCheck, !_secretsFailed, _secretFindings, _secretsFailed ? "a layer could not be read (see skipped)" : null));
        }

        var now = _clock.GetUtcNow();
        var evaluation = _policy.Evaluate(Finding.Merge(findings), now);
        var reasons = new List<string>(evaluation.Violations);
        reasons.AddRange(runs.Where(r => !r.Succeeded).Select(r => $"scanner {r.Name} failed: {r.FailureReason}"));
        if (runs.Count == 0) reasons.Add("nothing was scanned: give the image config, its layers or a vulnerability scanner");
        var passed = reasons.Count == 0;
        if (!runs.Any(r => r.Name is not (SecretsCheck or ConfigCheck)))
            reasons.Add("no vulnerability scanner ran" + (skipped.Count > 0 ? " (" + string.Join(", ", skipped.Select(s => s.Name).Distinct()) + " skipped)" : ""));
        reasons.AddRange(evaluation.Notes);

        var result = new ScanResult
        {
            ImageDigest = _image.ToString(),
            ScannedAt = now,
            Passed = passed,
            Reasons = reasons,
            ScannersRun = runs.OrderBy(r => r.Name, StringComparer.Ordinal).ToArray(),
            ScannersSkipped = skipped.OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Reason, StringComparer.Ordinal).ToArray(),
            Counts = evaluation.Counts,
            Allowlisted = evaluation.AllowlistedCount,
            Findings = evaluation.Findings,
            Judgement = _judgement ?? ScanJudgement.Of(_policy, _rules, null),
        };
        _log?.Information(result.ToSummary());
        return result;
    }
}
