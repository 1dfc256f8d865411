using System.Text.Json.Serialization;
using ImagePromotion.Copy;
using ImagePromotion.Gates;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Planning;

/// <summary>
/// A digest as the plan knows it: known (read from a registry or a layout), or still to be produced by an
/// earlier phase of the same run (the image BuildOnce builds). A typed value, never a marker string.
/// </summary>
/// <param name="Value">The digest, when known.</param>
/// <param name="Origin">What will produce it, when not known yet (e.g. "the build of web at commit 521ee04de0c3").</param>
public sealed record PlannedDigest(Digest? Value, string? Origin = null)
{
    /// <summary>A known digest.</summary>
    public static PlannedDigest Known(Digest digest) => new(digest);

    /// <summary>A digest an earlier phase of this run produces.</summary>
    public static PlannedDigest From(string origin) => new(null, origin);

    /// <summary>True when the digest is known.</summary>
    [JsonIgnore] public bool IsKnown => Value is not null;

    /// <inheritdoc />
    public override string ToString() => Value?.ToString() ?? $"(digest of {Origin})";
}

/// <summary>What happens to one tag: from <paramref name="Old"/> (null: absent) to <paramref name="New"/>.</summary>
/// <param name="Reference">registry/repository:tag.</param>
/// <param name="Old">The digest the tag points at now; null when the tag does not exist.</param>
/// <param name="New">The digest it will point at, known now or produced by an earlier phase of the run.</param>
public sealed record TagChange(string Reference, Digest? Old, PlannedDigest New)
{
    /// <summary>True when the tag already points at the new digest.</summary>
    [JsonIgnore] public bool IsNoop => New.Value is { } next && Old == next;
}

/// <summary>What happens to one blob of an image: skipped, mounted inside the registry, or streamed across.</summary>
public sealed record BlobPlan(string Digest, long Size, BlobAction Action, string Reason);

/// <summary>
/// One image of a release: where it comes from, which digest, where it goes, each blob's action, the manifests
/// pushed by digest, and the tag it moves.
/// </summary>
public sealed record ImagePlan
{
    /// <summary>The image's name in the application.</summary>
    public required string Image { get; init; }
    /// <summary>Where it is read from (a registry reference, or <c>oci:DIR:TAG</c> for a build).</summary>
    public required string Source { get; init; }
    /// <summary>The digest promoted.</summary>
    public required PlannedDigest Digest { get; init; }
    /// <summary>Where it goes (registry/repository:tag).</summary>
    public required string Destination { get; init; }
    /// <summary>The destination tag's move.</summary>
    public required TagChange Tag { get; init; }
    /// <summary>Each blob's action; empty when nothing is copied or the digest is not known yet.</summary>
    public IReadOnlyList<BlobPlan> Blobs { get; init; } = [];
    /// <summary>Manifests pushed by digest before any tag moves (index children first, then the image's own).</summary>
    public IReadOnlyList<string> Manifests { get; init; } = [];
    /// <summary>True when source and destination are one repository: the tag moves, nothing is copied.</summary>
    public bool SameRepository { get; init; }
    /// <summary>May the destination tag move from another digest (the environment's tagMayMove)?</summary>
    public bool TagMayMove { get; init; } = true;
    /// <summary>True when the destination already points at the digest: nothing to write.</summary>
    [JsonIgnore] public bool UpToDate => Tag.IsNoop;
}

/// <summary>One file of a GitOps change and its unified diff (empty: the file already holds the images).</summary>
public sealed record GitOpsFilePlan(string Path, string Diff);

/// <summary>What the GitOps step does, as the real run will do it.</summary>
public enum GitOpsAction
{
    /// <summary>The base branch already holds every image: no commit, no pull request.</summary>
    None,
    /// <summary>Commit on the promotion branch and push it (then open or update the pull request, if configured).</summary>
    CommitToBranch,
    /// <summary>The promotion branch already holds the change: nothing pushed; the pull request is opened or updated.</summary>
    BranchUpToDate,
    /// <summary>Commit straight on the base branch and push (direct mode).</summary>
    CommitToBase,
    /// <summary>Not known until an earlier phase of the run has produced the digests.</summary>
    AfterBuild,
}

/// <summary>The GitOps part of a release: one commit and one pull request for every image of the application.</summary>
public sealed record GitOpsPlan
{
    /// <summary>The GitOps repository (credentials never included).</summary>
    public required string Repository { get; init; }
    /// <summary>The branch the cluster follows.</summary>
    public required string BaseBranch { get; init; }
    /// <summary>The promotion branch (deterministic for the release), or the base branch in direct mode.</summary>
    public required string Branch { get; init; }
    /// <summary>What the run will do.</summary>
    public required GitOpsAction Action { get; init; }
    /// <summary>Each changed file with its diff.</summary>
    public IReadOnlyList<GitOpsFilePlan> Files { get; init; } = [];
    /// <summary>The commit message's first line (also the pull request's title).</summary>
    public required string Title { get; init; }
    /// <summary>owner/repository of the pull request, when one is opened.</summary>
    public string? PullRequestRepository { get; init; }
    /// <summary>Whether the pull request is merged once the tags moved.</summary>
    public bool AutoMerge { get; init; }
}

/// <summary>
/// One release: every image of one application promoted from one environment into another (or a release tag,
/// a push, a rollback), with the gates' verdicts and the GitOps change. Promoted all or nothing.
/// </summary>
public sealed record ReleasePlan
{
    /// <summary>push, promotion, release or rollback.</summary>
    public required string Kind { get; init; }
    /// <summary>The application.</summary>
    public required string Application { get; init; }
    /// <summary>The source environment; null for a push from the build.</summary>
    public string? From { get; init; }
    /// <summary>The target environment.</summary>
    public required string To { get; init; }
    /// <summary>Every image.</summary>
    public required IReadOnlyList<ImagePlan> Images { get; init; }
    /// <summary>Each gate's verdict (per image for image-scoped gates).</summary>
    public IReadOnlyList<GateResult> Gates { get; init; } = [];
    /// <summary>True when gates are configured for this application × environment.</summary>
    public bool Gated { get; init; }
    /// <summary>The GitOps change; null when the environment has none.</summary>
    public GitOpsPlan? GitOps { get; init; }
    /// <summary>The release tag (release plans only), the same on every image.</summary>
    public string? ReleaseTag { get; init; }
    /// <summary>For a rollback: the release tag gone back to.</summary>
    public string? RollbackTo { get; init; }
    /// <summary>The auto-merge override (<c>--auto-merge</c>); null: the configuration's.</summary>
    public bool? AutoMerge { get; init; }

    /// <summary>True when a gate failed outright: nothing of this release is written.</summary>
    [JsonIgnore] public bool Refused => Gates.Any(g => !g.Passed && !g.Pending);
    /// <summary>True when every image already is where the release puts it.</summary>
    [JsonIgnore] public bool UpToDate => Images.All(i => i.UpToDate);
    /// <summary>True when a gate waits on something the run produces (the pull request's approvals).</summary>
    [JsonIgnore] public bool Waiting => Gates.Any(g => g.Pending);
    /// <summary>The gate report.</summary>
    [JsonIgnore] public GateReport Report => new(Gates);
}

/// <summary>One image BuildOnce builds (or finds already pushed).</summary>
/// <param name="Application">The application.</param>
/// <param name="Image">The image.</param>
/// <param name="Context">The build context, absolute.</param>
/// <param name="Containerfile">The containerfile, absolute.</param>
/// <param name="LayoutTag">The tag in the OCI layout <c>.artifacts/oci</c>.</param>
/// <param name="Existing">The digest already built or pushed for this commit (then nothing is built), or null.</param>
public sealed record BuildPlan(string Application, string Image, string Context, string Containerfile, string LayoutTag, Digest? Existing)
{
    /// <summary>Where the existing build is (the dev reference, or the layout).</summary>
    public string? Where { get; init; }
    /// <summary>The builder (buildah or docker); null when nothing is built.</summary>
    public string? Builder { get; init; }
}

/// <summary>
/// The plan of one phase: one value listing, per application, environment and image, everything the phase
/// will read and write. A dry run prints it; the real run executes exactly it, after checking that the
/// registries still match it.
/// </summary>
public sealed record PromotionPlan
{
    /// <summary>What the phase does, in words (e.g. "promote into production").</summary>
    public required string Operation { get; init; }
    /// <summary>True when planned for a dry run.</summary>
    public bool DryRun { get; init; }
    /// <summary>Images to build.</summary>
    public IReadOnlyList<BuildPlan> Builds { get; init; } = [];
    /// <summary>Releases to carry out, one per application × target environment.</summary>
    public IReadOnlyList<ReleasePlan> Releases { get; init; } = [];
}
