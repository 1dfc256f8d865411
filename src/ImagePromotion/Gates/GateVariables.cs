using ImagePromotion.Pipeline.Records;
using ImagePromotion.Scanning;

namespace ImagePromotion.Gates;

/// <summary>
/// The facts several gates share, read through the context's seams: the CEL variables of one image, its push
/// record (who built it, from which branch) and its newest scan result.
/// </summary>
public static class GateVariables
{
    /// <summary>The CEL variables a policy condition sees for <paramref name="image"/>; unknown facts stay null.</summary>
    public static async Task<PromotionVariables> ForAsync(GateContext context, GateImage image, CancellationToken ct)
    {
        var push = await PushRecordAsync(context, image, ct).ConfigureAwait(false);
        var config = await context.Facts.ImageConfigAsync(image.Pinned, ct).ConfigureAwait(false);
        var scan = await LatestScanAsync(context, image, ct).ConfigureAwait(false);
        return new PromotionVariables
        {
            Environment = context.To,
            SourceEnvironment = SourceEnvironment(context),
            Branch = push?.Branch ?? context.Branch,
            Commit = push?.Commit ?? context.Commit,
            Repository = image.Source.Repository,
            Digest = image.Candidate.ToString(),
            Tags = new[] { image.Source.Tag, push is null ? null : Registry.ImageReference.Parse(push.ReferenceOf(image.Name)).Tag }
                .OfType<string>().Distinct().ToArray(),
            Labels = config.Labels,
            BuiltAt = config.Created,
            // Counts of a scan that ran without rules the policy needs are not facts: conditions reading them fail.
            ScanCounts = scan is { Incomplete: false, Counts: { } c } ? new Dictionary<string, long>
            {
                ["critical"] = c.Critical, ["high"] = c.High, ["medium"] = c.Medium, ["low"] = c.Low, ["unknown"] = c.Unknown, ["info"] = c.Info,
            } : null,
            Builder = push?.Who,
            Requester = context.Requester,
            Deployer = context.Requester,
            Extra = new Dictionary<string, object?> { ["application"] = context.Application, ["imageName"] = image.Name },
        };
    }

    /// <summary>The environment a promotion is judged as coming from: a rollback comes from the one before the target.</summary>
    public static string? SourceEnvironment(GateContext context) =>
        context.IsRollback ? (context.Chain.Count > 1 ? context.Chain[^2] : null) : context.From;

    /// <summary>The newest trusted push record of the image's candidate digest (it names the builder and branch), or null.</summary>
    public static async Task<PromotionRecord?> PushRecordAsync(GateContext context, GateImage image, CancellationToken ct) =>
        (await context.Evidence.PromotionRecordsAsync(image.Pinned, ct).ConfigureAwait(false)).Counted.LastOrDefault(r => r.Kind == "push");

    /// <summary>Who built the image (the push record's identity), or null.</summary>
    public static async Task<string?> BuilderAsync(GateContext context, GateImage image, CancellationToken ct) =>
        (await PushRecordAsync(context, image, ct).ConfigureAwait(false))?.Who;

    /// <summary>
    /// The newest trusted scan result attached to the image's candidate digest, re-judged under the environment's scan
    /// policy, or null. The newest trusted result decides: a later pass replaces an earlier failure only when it is
    /// trusted too, and untrusted pieces never take part.
    /// </summary>
    public static async Task<ScanResult?> LatestScanAsync(GateContext context, GateImage image, CancellationToken ct) =>
        (await context.Evidence.ScanResultsAsync(image.Pinned, ct).ConfigureAwait(false)).Counted.MaxBy(r => r.ScannedAt);
}
