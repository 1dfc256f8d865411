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
public sealed class StagingGate(StagingGateOptions options, TimeProvider? clock = null)
{
    public const string GateName = "staging";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

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
