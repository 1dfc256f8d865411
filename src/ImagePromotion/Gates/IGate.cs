using ImagePromotion.Configuration;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;
using ImagePromotion.Scanning;

namespace ImagePromotion.Gates;

/// <summary>
/// A promotion gate: one rule a release must pass before anything is written to the target environment. A
/// gate reads what it judges only through its <see cref="GateContext"/> (evidence through
/// <see cref="GateContext.Evidence"/>, registry facts through <see cref="GateContext.Facts"/>), never the
/// registry itself, so what it may believe is decided in one place. Gates are listed in
/// <see cref="GateRegistry"/>; adding one is one file implementing this interface and one line there.
/// </summary>
public interface IGate
{
    /// <summary>The name in gate reports and records (e.g. <c>scan</c>, <c>environment-lock</c>).</summary>
    string Name { get; }

    /// <summary>The key under an environment's <c>gates:</c> (or a policy) that configures it, and that <c>gates.rollback</c> names.</summary>
    string ConfigKey { get; }

    /// <summary>Judged once per image of the release, or once for the whole release.</summary>
    GateScope Scope { get; }

    /// <summary>What the gate reads, in words, for the documentation and <c>--verbosity=diagnostic</c>.</summary>
    string Reads { get; }

    /// <summary>True when the configuration switches the gate on for this promotion (read from <see cref="GateContext.Settings"/>).</summary>
    bool AppliesTo(GateContext context);

    /// <summary>The verdict: pass, fail, or pending (a fact that only the run itself can produce, such as the pull request's reviews).</summary>
    /// <remarks>For an image-scoped gate <see cref="GateContext.Image"/> is the image judged.</remarks>
    Task<GateResult> JudgeAsync(GateContext context, CancellationToken ct);
}

/// <summary>Whether a gate is judged per image or per release.</summary>
public enum GateScope
{
    /// <summary>Once for every image of the release (scan results, labels, staging history differ per image).</summary>
    Image,
    /// <summary>Once for the release (locks, freezes, the pull request's approvals).</summary>
    Release,
}

/// <summary>One image of the release under judgement: its name in the application, where it comes from, and the candidate digest.</summary>
/// <param name="Name">The image's name in the application (<c>web</c>, <c>worker</c>).</param>
/// <param name="Source">The reference it is promoted from (tag of the source environment, or a release tag on a rollback).</param>
/// <param name="Candidate">The digest being promoted; every digest-based gate judges exactly this one.</param>
public sealed record GateImage(string Name, ImageReference Source, Digest Candidate)
{
    /// <summary>The source repository pinned to the candidate: where evidence about it lives.</summary>
    public ImageReference Pinned => Source.WithDigest(Candidate);
}

/// <summary>
/// The one seam through which gates read evidence attached to a digest: only statements whose signature verifies
/// against a key the target environment's <c>trust:</c> names for their kind, about this digest, count
/// (<see cref="EvidenceReading{T}.Counted"/>); every other piece is named with its verdict in
/// <see cref="EvidenceReading{T}.Ignored"/>, for the gate table, and never counted.
/// </summary>
public interface IGateEvidence
{
    /// <summary>Trusted scan results attached to <paramref name="image"/> (a reference pinned by digest), re-judged under the environment's scan policy, any order.</summary>
    Task<EvidenceReading<ScanResult>> ScanResultsAsync(ImageReference image, CancellationToken ct);

    /// <summary>Trusted promotion records (push, promotion, release, rollback) attached to <paramref name="image"/>, oldest first.</summary>
    Task<EvidenceReading<PromotionRecord>> PromotionRecordsAsync(ImageReference image, CancellationToken ct);
}

/// <summary>What a gate may count of one kind of evidence, and the pieces it was shown but ignored.</summary>
/// <param name="Counted">The trusted pieces' content.</param>
/// <param name="Ignored">One line per ignored piece: its verdict's reason (unsigned, untrusted key, bad signature, other subject, ...).</param>
public sealed record EvidenceReading<T>(IReadOnlyList<T> Counted, IReadOnlyList<string> Ignored);

/// <summary>The image configuration's facts policies read: labels and build time.</summary>
/// <param name="Labels">The config's <c>Labels</c>; empty when it has none.</param>
/// <param name="Created">The config's <c>created</c> time; null when absent or unreadable.</param>
public sealed record ImageConfigFacts(IReadOnlyDictionary<string, string> Labels, DateTimeOffset? Created);

/// <summary>Registry facts other than evidence, as the plan sees them (a dry run sees what earlier phases of the plan would have done).</summary>
public interface IGateFacts
{
    /// <summary>Labels and build time of the image configuration of <paramref name="pinned"/> (for an index, its first image).</summary>
    Task<ImageConfigFacts> ImageConfigAsync(ImageReference pinned, CancellationToken ct);

    /// <summary>The digest <paramref name="environment"/> runs for <paramref name="image"/> of the application (its tag), or null.</summary>
    Task<Digest?> RunningDigestAsync(string environment, string image, CancellationToken ct);

    /// <summary>The reference of <paramref name="image"/> in <paramref name="environment"/> (tag resolved for this run).</summary>
    ImageReference ReferenceOf(string environment, string image);
}

/// <summary>Everything a gate may use to judge one promotion of one application into one environment.</summary>
public sealed record GateContext
{
    /// <summary>The application being promoted.</summary>
    public required string Application { get; init; }

    /// <summary><c>promotion</c> or <c>rollback</c> (an earlier release back into the environment).</summary>
    public required string Kind { get; init; }

    /// <summary>The environment the release comes from; null when it comes straight from the build.</summary>
    public string? From { get; init; }

    /// <summary>The target environment.</summary>
    public required string To { get; init; }

    /// <summary>The environments from the first (where builds are pushed) to <see cref="To"/>, following <c>from:</c>.</summary>
    public required IReadOnlyList<string> Chain { get; init; }

    /// <summary>The gates configured for this application in this environment (its own <c>gates:</c> and applied policies).</summary>
    public required GateSettings Settings { get; init; }

    /// <summary>Config keys a rollback restricts judging to; null: every configured gate.</summary>
    public IReadOnlyCollection<string>? OnlyKeys { get; init; }

    /// <summary>Every image of the release.</summary>
    public required IReadOnlyList<GateImage> Images { get; init; }

    /// <summary>The image an image-scoped gate judges; null for release-scoped gates.</summary>
    public GateImage? Image { get; init; }

    /// <summary>Evidence attached to digests: the only way a gate learns about scans and earlier promotions.</summary>
    public required IGateEvidence Evidence { get; init; }

    /// <summary>Registry facts (image config, what an environment runs).</summary>
    public required IGateFacts Facts { get; init; }

    /// <summary>The reviews of the promotion pull request; null while no pull request exists (the approvals gate is then pending).</summary>
    public ApprovalRequest? Reviews { get; init; }

    /// <summary>Who runs this promotion (requester and deployer for separation of duties).</summary>
    public required string Requester { get; init; }

    /// <summary>The branch being built, when known.</summary>
    public string? Branch { get; init; }

    /// <summary>The commit being promoted, when known.</summary>
    public string? Commit { get; init; }

    /// <summary>The clock gates judge time by.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>True for a rollback.</summary>
    public bool IsRollback => Kind == "rollback";

    /// <summary>True when the configuration (and a rollback's gate list) switches on the gate configured by <paramref name="key"/>.</summary>
    public bool Judges(string key) => OnlyKeys is null || OnlyKeys.Contains(key);
}
