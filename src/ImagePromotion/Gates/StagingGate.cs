using ImagePromotion.Registry;

namespace ImagePromotion.Gates;

/// <summary>One rollout to staging: which digest, and when it started running there.</summary>
public sealed record StagingDeployment(Digest Digest, DateTimeOffset ReachedStagingAt);

/// <summary>Staging's rollouts (any order) and the digest it runs now, as the GitOps repo or cluster reports.</summary>
public sealed record StagingHistory(Digest? CurrentDigest, IReadOnlyList<StagingDeployment> Deployments);

/// <param name="RecentWindow">How long after being replaced a digest may still be promoted; zero means only what staging runs now.</param>
/// <param name="SoakTime">How long the digest must have run in staging before promotion.</param>
public sealed record StagingGateOptions(TimeSpan RecentWindow = default, TimeSpan SoakTime = default);

/// <summary>
/// Production receives only what staging proved: the candidate digest must be what staging runs now (or ran
/// until recently, if allowed) and must have soaked there long enough.
/// </summary>
public sealed class StagingGate(StagingGateOptions options, TimeProvider? clock = null) : IGate
{
    /// <summary>The gate's name in reports.</summary>
    public const string GateName = "staging";

    /// <summary>The registry's instance; its window and soak come from each promotion's settings.</summary>
    public StagingGate() : this(new StagingGateOptions()) { }

    /// <inheritdoc />
    public string Name => GateName;
    /// <inheritdoc />
    public string ConfigKey => "staging";
    /// <inheritdoc />
    public GateScope Scope => GateScope.Image;
    /// <inheritdoc />
    public string Reads => "what the checked environment runs (its tag) and the promotion records on both digests (evidence)";

    /// <inheritdoc />
    public bool AppliesTo(GateContext context)
    {
        if (!context.Judges(ConfigKey) || context.Settings.Staging is null || context.IsRollback) return false;
        // The hotfix path skips the intermediate environments and so their history, where the policy allows it
        // (the promotion-path gate refuses it otherwise).
        var checkedEnvironment = CheckedEnvironment(context);
        var direct = context.From is { } from && IndexOf(context.Chain, from) < IndexOf(context.Chain, checkedEnvironment);
        return !(direct && context.Settings.Policy.AllowDirectPromotion);
    }

    /// <inheritdoc />
    public async Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct)
    {
        var image = context.Image ?? throw new InvalidOperationException("the staging gate judges one image");
        var check = context.Settings.Staging!;
        var environment = CheckedEnvironment(context);
        var current = await context.Facts.RunningDigestAsync(environment, image.Name, ct).ConfigureAwait(false);
        var reference = context.Facts.ReferenceOf(environment, image.Name);
        // Staging's history: the records on the candidate and on what runs now. The candidate left when the
        // current digest arrived (a later rollout in between would only make that earlier).
        var deployments = new List<StagingDeployment>();
        var ignored = new List<string>();
        foreach (var digest in new[] { image.Candidate, current }.OfType<Digest>().Distinct())
        {
            var reading = await context.Evidence.PromotionRecordsAsync(reference.WithDigest(digest), ct).ConfigureAwait(false);
            ignored.AddRange(reading.Ignored);
            deployments.AddRange(reading.Counted.Where(r => r.To == environment && r.Outcome is ("promoted" or "up-to-date") && r.DigestOf(image.Name) == digest.ToString())
                .Select(r => new StagingDeployment(digest, r.When)));
        }
        return new StagingGate(new StagingGateOptions(check.Window, check.Soak), context.Clock)
            .Evaluate(image.Candidate, new StagingHistory(current, deployments)).WithIgnored(ignored);
    }

    private static string CheckedEnvironment(GateContext context) =>
        context.Settings.Staging?.Environment ?? (context.Chain.Count > 1 ? context.Chain[^2] : context.To);

    private static int IndexOf(IReadOnlyList<string> chain, string name)
    {
        for (var i = 0; i < chain.Count; i++) if (chain[i] == name) return i;
        return -1;
    }

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Pass when <paramref name="candidate"/> runs (or recently ran) in staging for at least the soak time.</summary>
    public GateResult Evaluate(Digest candidate, StagingHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var now = _clock.GetUtcNow();
        var rollouts = history.Deployments.OrderBy(d => d.ReachedStagingAt).ToList();
        var last = rollouts.FindLastIndex(d => d.Digest == candidate);
        var isCurrent = history.CurrentDigest == candidate;
        if (last < 0)
        {
            return isCurrent
                ? GateResult.Fail(GateName, $"staging runs {candidate} but its history has no rollout record, so soak time cannot be checked")
                : GateResult.Fail(GateName, $"{candidate} never ran in staging (staging runs {history.CurrentDigest?.ToString() ?? "nothing"})");
        }

        var reached = rollouts[last].ReachedStagingAt;
        if (isCurrent)
        {
            var running = now - reached;
            return running >= options.SoakTime
                ? GateResult.Pass(GateName, $"staging runs {candidate} since {Stamp(reached)} ({Span(running)}, soak {Span(options.SoakTime)})")
                : GateResult.Fail(GateName, $"{candidate} has soaked in staging for {Span(running)}, less than the required {Span(options.SoakTime)}; wait {Span(options.SoakTime - running)}");
        }

        // Replaced by a later rollout: it ran from "reached" until the next rollout began.
        if (last == rollouts.Count - 1)
            return GateResult.Fail(GateName, $"{candidate} is the latest rollout in staging's history but staging runs {history.CurrentDigest?.ToString() ?? "nothing"}");
        var left = rollouts[last + 1].ReachedStagingAt;
        var ran = left - reached;
        var since = now - left;
        if (since > options.RecentWindow)
            return GateResult.Fail(GateName, options.RecentWindow == TimeSpan.Zero
                ? $"{candidate} is no longer what staging runs (replaced {Stamp(left)} by {rollouts[last + 1].Digest}); promote the current staging digest"
                : $"{candidate} left staging {Span(since)} ago, outside the {Span(options.RecentWindow)} window");
        return ran >= options.SoakTime
            ? GateResult.Pass(GateName, $"{candidate} ran in staging {Stamp(reached)} to {Stamp(left)} ({Span(ran)}), replaced {Span(since)} ago, within the {Span(options.RecentWindow)} window")
            : GateResult.Fail(GateName, $"{candidate} ran in staging only {Span(ran)}, less than the required soak of {Span(options.SoakTime)}");
    }

    internal static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    internal static string Span(TimeSpan d)
    {
        if (d < TimeSpan.Zero) return "-" + Span(-d);
        if (d.TotalDays >= 1) return $"{(int)d.TotalDays}d{d.Hours}h{d.Minutes}m";
        if (d.TotalHours >= 1) return $"{(int)d.TotalHours}h{d.Minutes}m";
        if (d.TotalMinutes >= 1) return $"{(int)d.TotalMinutes}m{d.Seconds}s";
        return $"{d.TotalSeconds:0.#}s";
    }
}
