using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.GitOps.Git;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Registry;
using Polly;
using Polly.Retry;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>What the GitOps base pinned when a release's tags were reconciled, and the tags moved to follow it.</summary>
/// <param name="Pins">What the base pins for each place the release writes.</param>
/// <param name="Followed">Tags pointed at the base's digest because they pointed elsewhere ("reference -> digest").</param>
public sealed record ReconcileOutcome(GitOpsPins Pins, IReadOnlyList<string> Followed)
{
    /// <summary>True when the base still pins this release everywhere: the release won.</summary>
    public bool Ours => Pins.Pins.All(p => p.HoldsEdit);
}

/// <summary>
/// The last write of a direct-mode release: the registry tag follows what the GitOps base branch pins. Git is
/// where two promotions are ordered (its ref update is a real compare-and-swap; registries have none for tags,
/// only a look before and a read after), so once a release's commit is on the base and its tags moved, the base
/// is read again and each tag that points elsewhere than the digest the base pins is pointed there. Every run
/// that wrote a tag ends with this step, so whichever writes last leaves the tag on the base's digest, and two
/// promotions racing cannot leave the registry on one digest and Git on the other.
/// </summary>
public sealed class ReconcileTags(PromotionSession session)
{
    /// <summary>Reads the base and points each image's tag at the digest it pins; retried when another run moves a tag meanwhile.</summary>
    /// <param name="application">The application released.</param>
    /// <param name="environment">The direct-mode environment.</param>
    /// <param name="images">The release's images as the GitOps step wrote them.</param>
    /// <param name="plans">The release's image plans (for each environment's tagMayMove).</param>
    /// <param name="ct">Cancels the git and registry calls.</param>
    /// <exception cref="PromotionConflictException">other runs kept moving the tag while this one followed the base.</exception>
    public async Task<ReconcileOutcome> RunAsync(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images,
        IReadOnlyList<ImagePlan> plans, CancellationToken ct)
    {
        var pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PromotionConflictException>(),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            OnRetry = args =>
            {
                session.Log.Warning($"another run moved a tag of {application.Name} in {environment.Name} while this one followed the GitOps base ({args.Outcome.Exception?.Message}); reading the base again");
                return default;
            },
        }).Build();
        return await pipeline.ExecuteAsync(async token => await FollowAsync(application, environment, images, plans, token).ConfigureAwait(false), ct).ConfigureAwait(false);
    }

    private async Task<ReconcileOutcome> FollowAsync(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images,
        IReadOnlyList<ImagePlan> plans, CancellationToken ct)
    {
        var settings = environment.GitOps!;
        var pins = await new UpdateGitOps(session).ReadBaseAsync(application, environment, images, ct).ConfigureAwait(false);
        var followed = new List<string>();
        foreach (var image in images)
        {
            // pinDigest: false writes no digest, so Git cannot tell two promotions apart: the registry's own guard decides.
            if (UpdateGitOps.PinnedDigest(pins, settings, image) is not { } pinned) continue;
            var reference = image.Target;
            var client = session.Copier.Client(reference.Registry);
            var now = (await client.HeadManifestAsync(reference.Repository, reference.Tag!, ct).ConfigureAwait(false))?.Digest;
            if (now == pinned) continue;
            if (await client.HeadManifestAsync(reference.Repository, pinned.ToString(), ct).ConfigureAwait(false) is null)
                throw new PromotionException($"{settings.BaseBranch} of {GitRemoteUrl.Describe(settings.Repository)} pins {pinned} for {image.Image.Name}, which {reference.Name} does not hold, while {reference} points at {now?.ToString() ?? "nothing"}: Git and the registry disagree; promote {pinned} into {environment.Name} or fix the manifest by hand");
            var mayMove = plans.FirstOrDefault(p => p.Image == image.Image.Name)?.TagMayMove ?? environment.TagMayMove;
            await session.Copier.CopyAsync(reference.WithDigest(pinned), reference, new CopyOptions { AllowTagMove = mayMove, GuardTag = true }, ct).ConfigureAwait(false);
            session.Log.Warning($"{reference} pointed at {now?.ToString() ?? "nothing"} while {settings.BaseBranch} pins {pinned} (commit {GitPublisher.Short(pins.Commit)}): pointed it there, so the registry and Git agree");
            followed.Add($"{reference} -> {pinned}");
        }
        return new ReconcileOutcome(pins, followed);
    }
}
