using ImagePromotion.Configuration;
using ImagePromotion.GitOps.Git;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Pipeline.Steps;

namespace ImagePromotion.Pipeline.Execution;

/// <summary>
/// The GitOps writes of direct-mode releases (no review: the commit goes straight to the base branch), ordered so
/// that two promotions of one application and environment running at once end consistent: one wins, the other
/// exits non-zero naming the winner, and the registry tag and the base branch pin the same digest.
/// <para>
/// The order is Git first, then the tags, then the tags made to follow Git:
/// 1. The push to the base is a compare-and-swap on what the base pinned when the plan was made
///    (<see cref="GitOpsPlan.BasePins"/>): a promotion that landed in between makes this one stop with
///    <see cref="GitOpsSupersededException"/>, naming what the base pins now, before any tag moved.
/// 2. Only the run whose commit is on the base moves the tags (guarded by the registry's look-before and read-after).
/// 3. <see cref="ReconcileTags"/> reads the base again and points every tag at the digest it pins.
/// </para>
/// <para>
/// Why Git first: Git has a real compare-and-swap (the ref update of <c>--force-with-lease</c> is atomic on the
/// server) and registries have none for tags (a PUT of a manifest by tag simply wins; the guard narrows the window,
/// it cannot close it). So Git decides who won, and the registry follows it. The reverse order (tags first, Git
/// second, putting the tag back when Git is lost) would decide by the registry, whose check-then-write lets two
/// runs both believe they won, and every lost Git race would leave a window where the tag pointed at a digest no
/// manifest asks for. A run that won Git but whose tag moves then fail for another reason than a race (registry
/// down, tag immutable) puts Git back by another compare-and-swap (<see cref="UpdateGitOps.RevertAsync"/>).
/// Between a loser's late tag write and its reconcile the tag may point at the loser's digest for a moment; the
/// cluster follows Git, which never pinned it.
/// </para>
/// </summary>
internal sealed class DirectGitOps(PromotionSession session)
{
    private readonly Dictionary<ReleasePlan, GitOpsPins> _expected = [];
    private readonly List<Published> _published = [];

    private sealed record Published(ReleasePlan Release, ApplicationSettings Application, EnvironmentSettings Environment,
        IReadOnlyList<GitOpsImage> Images, GitOpsOutcome Outcome);

    /// <summary>The releases whose GitOps step ran in this phase (pushed, or found the base already pinning them).</summary>
    public int PublishedCount => _published.Count;

    /// <summary>The expected value of the compare-and-swap: the plan's read of the base, or (a plan made before the digests were known) a read now.</summary>
    public async Task ReadExpectedAsync(ReleasePlan release, (ApplicationSettings Application, EnvironmentSettings Environment, IReadOnlyList<GitOpsImage> Images) resolved,
        CancellationToken ct) =>
        _expected[release] = release.GitOps?.BasePins
            ?? await new UpdateGitOps(session).ReadBaseAsync(resolved.Application, resolved.Environment, resolved.Images, ct).ConfigureAwait(false);

    /// <summary>Pushes the release's commit to the base as a compare-and-swap on <see cref="ReadExpectedAsync"/>'s pins.</summary>
    /// <exception cref="PromotionConflictException">another promotion landed first; nothing of this release was pushed, no tag moved.</exception>
    public async Task<GitOpsOutcome> PublishAsync(ReleasePlan release, (ApplicationSettings Application, EnvironmentSettings Environment, IReadOnlyList<GitOpsImage> Images) resolved,
        CancellationToken ct)
    {
        var (application, environment, images) = resolved;
        GitOpsOutcome outcome;
        try
        {
            outcome = await new UpdateGitOps(session).PublishAsync(application, environment, images, release.From, merge: true, release.AutoMerge, ct, _expected[release]).ConfigureAwait(false);
        }
        catch (GitOpsSupersededException lost)
        {
            var undone = _published.Count == 0 ? "" : "; " + await CompensateAsync(ct).ConfigureAwait(false);
            throw new PromotionConflictException($"{What(release)} lost to another promotion: {lost.Message} No tag was moved{undone}; run again to promote over it.");
        }
        _published.Add(new Published(release, application, environment, images, outcome));
        return outcome;
    }

    /// <summary>After the tag moves: each tag follows the base; a release whose commit was superseded meanwhile fails naming the winner.</summary>
    /// <exception cref="PromotionConflictException">another promotion's commit replaced this one's on the base after the push.</exception>
    public async Task ReconcileAsync(CancellationToken ct)
    {
        var lost = new List<string>();
        foreach (var p in _published)
        {
            var outcome = await new ReconcileTags(session).RunAsync(p.Application, p.Environment, p.Images, p.Release.Images, ct).ConfigureAwait(false);
            if (outcome.Ours) continue;
            var settings = p.Environment.GitOps!;
            lost.Add($"{What(p.Release)} was superseded after its GitOps push: {settings.BaseBranch} of {GitRemoteUrl.Describe(settings.Repository)} now pins {outcome.Pins.Describe()} (commit {GitPublisher.Short(outcome.Pins.Commit)})"
                + (outcome.Followed.Count > 0 ? $", and the registry follows it ({string.Join(", ", outcome.Followed)})" : ", as the registry does"));
        }
        if (lost.Count > 0) throw new PromotionConflictException(string.Join(" | ", lost) + "; run again to promote over it");
    }

    /// <summary>
    /// The tag moves failed for another reason than a race: every base this phase pushed goes back to what it pinned
    /// (a compare-and-swap: a promotion that landed since is kept), then the tags follow the bases.
    /// </summary>
    /// <returns>What was put back and what could not be, for the error message.</returns>
    public async Task<string> CompensateAsync(CancellationToken ct)
    {
        var notes = new List<string>();
        foreach (var p in Enumerable.Reverse(_published).Where(p => p.Outcome.Changed))
        {
            try { notes.Add(await new UpdateGitOps(session).RevertAsync(p.Application, p.Environment, p.Images, _expected[p.Release], ct).ConfigureAwait(false)); }
            catch (PromotionException ex) { notes.Add($"{p.Environment.GitOps!.BaseBranch} of {GitRemoteUrl.Describe(p.Environment.GitOps.Repository)} could NOT be put back ({ex.Message}): put it back by hand"); }
        }
        foreach (var p in _published)
        {
            try
            {
                var outcome = await new ReconcileTags(session).RunAsync(p.Application, p.Environment, p.Images, p.Release.Images, ct).ConfigureAwait(false);
                notes.AddRange(outcome.Followed.Select(f => $"{f} to follow Git"));
            }
            catch (PromotionException ex) { notes.Add($"the tags of {p.Application.Name} in {p.Environment.Name} could not be made to follow Git ({ex.Message}): check them by hand"); }
        }
        return notes.Count == 0 ? "Git was not changed by this run" : string.Join("; ", notes);
    }

    private static string What(ReleasePlan release) => release.Images.Count == 1
        ? $"{release.Kind} of {release.Images[0].Digest} to {release.To}"
        : $"{release.Kind} of {release.Application} ({string.Join(", ", release.Images.Select(i => $"{i.Image} {i.Digest}"))}) to {release.To}";
}
