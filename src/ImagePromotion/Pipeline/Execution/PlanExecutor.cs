using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.Gates;
using ImagePromotion.Pipeline.Building;
using ImagePromotion.Pipeline.Gating;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Pipeline.Steps;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Execution;

/// <summary>What happened to one release: promoted, up to date, or refused (with the gates, the GitOps step and the record).</summary>
public sealed record ReleaseOutcome(ReleasePlan Plan, GateReport Gates, GitOpsOutcome? GitOps, PromotionRecord Record)
{
    /// <summary>What each image's copy by digest did (empty when refused or nothing was copied).</summary>
    public IReadOnlyList<CopyResult> Copies { get; init; } = [];
    /// <summary>The tags moved.</summary>
    public IReadOnlyList<MovedTag> Tags { get; init; } = [];
    /// <summary>True when a gate refused the release; nothing of it was written to the target registry.</summary>
    public bool Refused => Record.Outcome == "refused";
    /// <summary>The pull request, when one was opened or updated.</summary>
    public string? PullRequestUrl => GitOps?.PullRequestUrl ?? Record.PullRequestUrl;

    /// <summary>The one line a refusal is reported with: every failing gate, and the pull request or that nothing was written.</summary>
    public string? RefusalMessage
    {
        get
        {
            if (!Refused) return null;
            var failed = Gates.FailedGates.Select(g => $"{g.Label} ({g.Reason})");
            var what = Plan.Images.Count == 1 ? Plan.Images[0].Digest.ToString() : $"{Plan.Application} ({string.Join(", ", Plan.Images.Select(i => $"{i.Image} {i.Digest}"))})";
            return $"promotion of {what} to {Plan.To} refused by gate(s): {string.Join("; ", failed)}"
                + (PullRequestUrl is { } url ? $"; review the pull request {url} and run again" : "; nothing was written to " + Plan.To);
        }
    }

    /// <summary>Throws <see cref="RefusalMessage"/> when the release was refused.</summary>
    public void ThrowIfRefused()
    {
        if (RefusalMessage is { } message) throw new PromotionException(message);
    }
}

/// <summary>The points between steps where <see cref="PlanExecutor"/> can be paused (tests only).</summary>
internal enum ExecutionPoint
{
    /// <summary>Blobs and manifests copied by digest, the GitOps base read; nothing pushed to Git, no tag moved.</summary>
    BeforeGitOps,
    /// <summary>The GitOps commits pushed; no tag moved yet.</summary>
    BeforeTagMoves,
}

/// <summary>One image of a build phase: its digest, and whether an existing build of the commit was re-used.</summary>
/// <param name="Application">The application.</param>
/// <param name="Image">The image of the application.</param>
/// <param name="Digest">The image's manifest digest, built now or found built.</param>
/// <param name="Reused">True when an existing build of the commit (dev tag or layout) was re-used and nothing was built.</param>
public sealed record BuiltImage(string Application, string Image, Digest Digest, bool Reused);

/// <summary>What a phase did: its plan and each release's outcome.</summary>
public sealed record PhaseOutcome(PromotionPlan Plan, IReadOnlyList<ReleaseOutcome> Releases)
{
    /// <summary>The one line a host exits with when a release was refused: every failing gate, and the pull request.</summary>
    public void ThrowIfRefused()
    {
        var refused = Releases.Select(r => r.RefusalMessage).OfType<string>().ToArray();
        if (refused.Length > 0) throw new PromotionException(string.Join(" | ", refused));
    }
}

/// <summary>
/// Carries out a plan, and only that plan. Before anything is written it checks that the registries still match
/// it (a tag moved since planning is refused, by name). Then, across every release of the phase so a group of
/// environments moves as one: approvals (opening the pull request they are read from), copy by digest of every
/// blob and manifest, the GitOps commit and pull request, the tag moves (put back if one fails), in direct mode
/// the tags made to follow the GitOps base (<see cref="DirectGitOps"/>), and last the evidence and records.
/// </summary>
public sealed class PlanExecutor(PromotionSession session, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>
    /// Builds each planned image into the OCI layout, labelled with the commit and the repository (see
    /// <see cref="BuildRevision"/>); returns every image's digest, built now or found built.
    /// </summary>
    public async Task<IReadOnlyList<BuiltImage>> ExecuteBuildsAsync(PromotionPlan plan, CancellationToken ct)
    {
        var builder = new ImageBuilder(session.Config, session.ArtifactsDirectory, session.Log);
        var commit = session.Options.Commit ?? session.CommitTag;
        var built = new List<BuiltImage>();
        string? source = null;
        foreach (var build in plan.Builds)
        {
            if (build.Existing is { } existing)
            {
                session.Log.Information($"{build.Application}/{build.Image} of commit {session.CommitTag} already exists ({existing} {build.Where}): not building again");
                built.Add(new BuiltImage(build.Application, build.Image, existing, Reused: true));
                continue;
            }
            var image = session.Config.Application(build.Application).Image(build.Image);
            source ??= await BuildRevision.SourceUrlAsync(session.Options.Environment ?? Registry.Auth.CredentialStore.ReadProcessEnvironment(), build.Context, ct).ConfigureAwait(false) ?? "";
            session.Log.Information($"building {build.Image} of {build.Application} at commit {session.CommitTag} with {build.Builder}");
            await builder.BuildAsync(image, build.Builder!, build.LayoutTag, BuildRevision.Labels(commit, source), ct).ConfigureAwait(false);
            var manifest = await new LayoutSource(builder.LayoutDirectory).GetManifestAsync(build.LayoutTag, null, ct).ConfigureAwait(false);
            session.Log.Information($"built {build.Image}:{build.LayoutTag} = {manifest.Digest}");
            built.Add(new BuiltImage(build.Application, build.Image, manifest.Digest, Reused: false));
        }
        return built;
    }

    /// <summary>Executes every release of <paramref name="plan"/>.</summary>
    /// <exception cref="PromotionConflictException">a tag or source moved since the plan was made; nothing was written.</exception>
    public async Task<PhaseOutcome> ExecuteAsync(PromotionPlan plan, CancellationToken ct)
    {
        if (plan.DryRun) throw new InvalidOperationException("a dry run's plan is printed, not executed");
        foreach (var release in plan.Releases.Where(r => !r.Refused)) await VerifyAsync(release, ct).ConfigureAwait(false);

        var recorder = new RecordRelease(session, _clock);
        var outcomes = new Dictionary<ReleasePlan, ReleaseOutcome>();
        var going = new List<(ReleasePlan Plan, IReadOnlyList<GateResult> Gates, GitOpsOutcome? Review, IReadOnlyList<ApprovalRecord> Approvals)>();
        foreach (var release in plan.Releases)
        {
            if (release.Refused)
            {
                outcomes[release] = await RefuseAsync(release, release.Gates, null, [], ct).ConfigureAwait(false);
                continue;
            }
            if (!release.Waiting)
            {
                going.Add((release, release.Gates, null, []));
                continue;
            }
            // Approvals are read from the promotion pull request: push its branch and open it (git only, nothing
            // in the target registry), count the reviews on its head commit, and go on only when they suffice.
            var (review, gates, approvals) = await ReviewAsync(release, ct).ConfigureAwait(false);
            if (gates.Any(g => !g.Passed)) outcomes[release] = await RefuseAsync(release, gates, review, approvals, ct).ConfigureAwait(false);
            else going.Add((release, gates, review, approvals));
        }

        var copies = new Dictionary<ReleasePlan, List<CopyResult>>();
        var copy = new CopyByDigest(session);
        foreach (var (release, _, _, _) in going)
        {
            copies[release] = [];
            foreach (var image in release.Images.Where(i => !i.UpToDate && !i.SameRepository))
                copies[release].Add(await copy.RunAsync(image, ct).ConfigureAwait(false));
        }

        // Direct mode orders racing promotions by Git: see DirectGitOps.
        var direct = new DirectGitOps(session);
        foreach (var (release, _, _, _) in going.Where(g => g.Review is null && IsDirect(g.Plan)))
            await direct.ReadExpectedAsync(release, Resolve(release), ct).ConfigureAwait(false);
        if (Checkpoint is { } beforeGitOps) await beforeGitOps(ExecutionPoint.BeforeGitOps, ct).ConfigureAwait(false);

        var gitops = new Dictionary<ReleasePlan, GitOpsOutcome?>();
        foreach (var (release, _, review, _) in going)
        {
            if (review is not null || !IsDirect(release))
            {
                gitops[release] = await GitOpsAsync(release, review, ct).ConfigureAwait(false);
                continue;
            }
            gitops[release] = await direct.PublishAsync(release, Resolve(release), ct).ConfigureAwait(false);
        }
        if (Checkpoint is { } beforeTags) await beforeTags(ExecutionPoint.BeforeTagMoves, ct).ConfigureAwait(false);

        IReadOnlyList<MovedTag> moved;
        try
        {
            moved = await new MoveTags(session).RunAsync(going.SelectMany(g => g.Plan.Images).ToArray(), ct).ConfigureAwait(false);
        }
        catch (PromotionException failed) when (direct.PublishedCount > 0)
        {
            // Another run wrote a tag between our look and our read-back: a race the reconcile below settles by Git
            // (when every release of the phase is a direct one). Any other failure leaves Git ahead of the registry:
            // Git is put back, and the tags follow it.
            if (failed.InnerException is not PromotionConflictException || direct.PublishedCount < going.Count)
                throw new PromotionException(failed.Message + "; " + await direct.CompensateAsync(ct).ConfigureAwait(false), failed);
            session.Log.Warning(failed.Message);
            moved = going.SelectMany(g => g.Plan.Images).Where(i => !i.UpToDate).Select(i => new MovedTag(i.Destination, i.Tag.Old, i.Digest.Value!.Value)).ToArray();
        }
        await direct.ReconcileAsync(ct).ConfigureAwait(false);
        foreach (var (release, _, _, _) in going)
            foreach (var image in release.Images.Where(i => i.UpToDate))
                session.Log.Information(release.Kind switch
                {
                    "push" => $"{image.Destination} already points at {image.Digest}: nothing to push",
                    "release" => $"{image.Destination} already marks {image.Digest}: no new release tag",
                    _ => $"{image.Destination} already points at {image.Digest}: nothing written",
                });

        foreach (var (release, gates, _, approvals) in going)
        {
            // Provenance binds commit and builder to each pushed digest; the push record names the builder, whom
            // separation of duties keeps from approving production.
            if (release.Kind == "push") await recorder.AttachProvenanceAsync(release, ct).ConfigureAwait(false);
            var previous = release.Kind == "release" ? await PreviousReleaseAsync(release, ct).ConfigureAwait(false) : null;
            var record = await recorder.RecordOfAsync(release, release.UpToDate ? "up-to-date" : "promoted", gates, approvals, gitops[release]?.PullRequestUrl, previous, ct).ConfigureAwait(false);
            if (!release.UpToDate || release.Kind is "promotion" or "rollback")
                await recorder.RunAsync(release, record, approvals, always: !release.UpToDate, ct).ConfigureAwait(false);
            outcomes[release] = new ReleaseOutcome(release, new GateReport(gates), gitops[release], record)
            {
                Copies = copies[release], Tags = moved.Where(m => release.Images.Any(i => i.Destination == m.Reference)).ToArray(),
            };
        }
        return new PhaseOutcome(plan, plan.Releases.Select(r => outcomes[r]).ToArray());
    }

    /// <summary>The re-check: every tag still points where the plan saw it, and every source still holds the planned digest.</summary>
    private async Task VerifyAsync(ReleasePlan release, CancellationToken ct)
    {
        foreach (var image in release.Images)
        {
            var planned = image.Digest.Value ?? throw new InvalidOperationException($"{image.Image}: a plan executed for real knows every digest");
            var destination = ImageReference.Parse(image.Destination);
            var now = (await session.Copier.Client(destination.Registry).HeadManifestAsync(destination.Repository, destination.Tag!, ct).ConfigureAwait(false))?.Digest;
            if (now != image.Tag.Old)
                throw new PromotionConflictException($"{image.Destination} moved since the plan was made (planned from {image.Tag.Old?.ToString() ?? "(absent)"}, now {now?.ToString() ?? "(absent)"}): nothing was written; run again to plan on what is there now");
            if (LayoutReference.TryParse(image.Source, out _, out _)) continue;
            var source = ImageReference.Parse(image.Source);
            var at = (await session.Copier.Client(source.Registry).HeadManifestAsync(source.Repository, source.Identifier, ct).ConfigureAwait(false))?.Digest;
            if (source.Digest is null && at != planned)
                throw new PromotionConflictException($"{image.Source} moved since the plan was made (planned {planned}, now {at?.ToString() ?? "(absent)"}): nothing was written; run again to plan on what is there now");
            if (source.Digest is not null && at is null)
                throw new PromotionException($"{image.Source} no longer exists: nothing was written");
        }
    }

    private async Task<(GitOpsOutcome? Review, IReadOnlyList<GateResult> Gates, IReadOnlyList<ApprovalRecord> Approvals)> ReviewAsync(ReleasePlan release, CancellationToken ct)
    {
        var (application, environment, images) = Resolve(release);
        var review = await new UpdateGitOps(session).PublishAsync(application, environment, images, release.From, merge: false, autoMerge: false, ct).ConfigureAwait(false);
        var gates = release.Gates.ToList();
        var settings = session.Config.GatesFor(release.Application, release.To)!;
        var index = gates.FindIndex(g => g.Pending && g.Gate == ApprovalGate.GateName);
        if (review.PullRequestNumber is not { } number || review.PullRequestHeadSha is not { } head)
        {
            gates[index] = GateResult.Fail(ApprovalGate.GateName, "no pull request to review: the GitOps base already holds this release");
            return (review, gates, []);
        }
        var request = await new ReadApprovals(session).RunAsync(environment, number, head, ct).ConfigureAwait(false);
        var context = new GateContext
        {
            Application = release.Application, Kind = release.Kind, From = release.From, To = release.To, Chain = session.Config.Chain(environment),
            Settings = settings, Images = release.Images.Select(i => new GateImage(i.Image, ImageReference.Parse(i.Source), i.Digest.Value!.Value)).ToArray(),
            Evidence = new TrustedGateEvidence(session, _clock, release.To), Facts = new RegistryGateFacts(session, application),
            Reviews = request, Requester = session.Options.Identity, Clock = _clock,
        };
        var gate = GateRegistry.All.OfType<ApprovalGate>().Single();
        var verdict = await gate.JudgeAsync(context, ct).ConfigureAwait(false);
        gates[index] = verdict;
        var builder = await GateVariables.BuilderAsync(context, context.Images[0], ct).ConfigureAwait(false);
        var counted = ApprovalGate.Count(settings.Policy, request with { Builder = builder }).Counted
            .Select(r => new ApprovalRecord(r.Login, r.CommitId, r.SubmittedAt)).ToArray();
        session.Log.Information($"gates for {release.From} -> {release.To} of {release.Application}, with the pull request's reviews:\n{new GateReport(gates).ToTable()}");
        return (review, gates, verdict.Passed ? counted : []);
    }

    /// <summary>A pause point between steps, for tests that interleave two runs deterministically; null in real runs.</summary>
    internal Func<ExecutionPoint, CancellationToken, Task>? Checkpoint { get; init; }

    private bool IsDirect(ReleasePlan release) =>
        release.Kind is "promotion" or "rollback" && session.Config.Environment(release.To).GitOps is { Mode: "direct" };

    private async Task<GitOpsOutcome?> GitOpsAsync(ReleasePlan release, GitOpsOutcome? review, CancellationToken ct)
    {
        var environment = session.Config.Environment(release.To);
        if (environment.GitOps is null || release.Kind is "release" or "push") return null;
        if (review is not null)
        {
            // The pull request was opened for the approvals: what is left is Kargo's git-merge-pr.
            var merge = release.AutoMerge ?? environment.GitOps.GitHub?.AutoMerge ?? false;
            return merge && review.PullRequestNumber is not null
                ? await new UpdateGitOps(session).MergeAsync(environment, review, release.GitOps?.Title ?? "", ct).ConfigureAwait(false)
                : review;
        }
        var (application, env, images) = Resolve(release);
        return await new UpdateGitOps(session).PublishAsync(application, env, images, release.From, merge: true, release.AutoMerge, ct).ConfigureAwait(false);
    }

    private async Task<ReleaseOutcome> RefuseAsync(ReleasePlan release, IReadOnlyList<GateResult> gates, GitOpsOutcome? review,
        IReadOnlyList<ApprovalRecord> approvals, CancellationToken ct)
    {
        var recorder = new RecordRelease(session, _clock);
        var record = await recorder.RecordOfAsync(release, "refused", gates, approvals, review?.PullRequestUrl, null, ct).ConfigureAwait(false)
            with
        { PreviousDigest = null };
        // A refusal writes nothing next to the target: the journal (and the step summary) say what happened.
        await new PromotionRecorder(session, _clock).RecordAsync(record, [], ct).ConfigureAwait(false);
        return new ReleaseOutcome(release, new GateReport(gates), review, record);
    }

    /// <summary>For a release record: each image's digest under the release tag before this one.</summary>
    private async Task<IReadOnlyDictionary<string, string?>?> PreviousReleaseAsync(ReleasePlan release, CancellationToken ct)
    {
        var application = session.Config.Application(release.Application);
        var environment = session.Config.Environment(release.To);
        var planner = new ReleasePlanner(session, _clock);
        var tags = await planner.ReleaseTagsAsync(session.Client(environment), session.Reference(application, application.Images[0], environment), ct).ConfigureAwait(false);
        var before = tags.Where(t => t != release.ReleaseTag).LastOrDefault();
        if (before is null) return new Dictionary<string, string?>();
        var digests = await planner.ReleaseDigestsAsync(application, environment, before, ct).ConfigureAwait(false);
        return digests?.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()) ?? new Dictionary<string, string?>();
    }

    private (ApplicationSettings Application, EnvironmentSettings Environment, IReadOnlyList<GitOpsImage> Images) Resolve(ReleasePlan release)
    {
        var application = session.Config.Application(release.Application);
        var environment = session.Config.Environment(release.To);
        var images = release.Images.Select(i => new GitOpsImage(application.Image(i.Image), ImageReference.Parse(i.Destination), i.Digest.Value!.Value, i.Source)).ToArray();
        return (application, environment, images);
    }
}
