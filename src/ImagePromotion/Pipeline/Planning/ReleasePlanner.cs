using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.Gates;
using ImagePromotion.Pipeline.Building;
using ImagePromotion.Pipeline.Gating;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Pipeline.Steps;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Planning;

/// <summary>
/// Makes the plan of each phase: reads the registries (through the dry run's <see cref="PlannedState"/>, so a
/// phase plans on what earlier phases of the run would have done), judges the gates, plans every blob and every
/// tag of every image and the GitOps change, and writes nothing. In a dry run it then notes the plan's outcome
/// for the phases after it.
/// </summary>
public sealed class ReleasePlanner(PromotionSession session, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private PromotionConfig Config => session.Config;

    /// <summary>
    /// The builds of this commit: every image not yet pushed to the first environment. An existing build (the dev tag,
    /// or the OCI layout an earlier CI stage handed over) is re-used only when its revision label is this commit (see
    /// <see cref="BuildRevision"/>): a dev tag holding another commit's build is refused, a layout entry of another
    /// commit is built over.
    /// </summary>
    public async Task<PromotionPlan> PlanBuildsAsync(ReleaseSelection selection, CancellationToken ct)
    {
        var builder = new ImageBuilder(Config, session.ArtifactsDirectory, session.Log);
        var layout = new LayoutSource(builder.LayoutDirectory);
        var commit = Commit;
        var builds = new List<BuildPlan>();
        string? tool = null;
        foreach (var app in selection.Applications(Config))
            foreach (var image in app.Images)
            {
                var target = session.Reference(app, image, Config.First);
                var existing = await session.Planned.ResolveAsync(session.Client(Config.First), target, ct).ConfigureAwait(false);
                if (existing?.Value is { } pushed)
                    await BuildRevision.RequireAsync(new RegistrySource(session.Client(Config.First), target.Repository), pushed.ToString(), pushed, commit, target.ToString(), ct).ConfigureAwait(false);
                var context = Config.ResolvePath(image.Build.Context);
                var layoutTag = LayoutTag(app, image);
                var plan = new BuildPlan(app.Name, image.Name, context, Path.Combine(context, image.Build.Containerfile), layoutTag, existing?.Value)
                {
                    Where = existing is null ? null : $"in {target}",
                };
                // Built once: a build of this commit already in the layout (built, not pushed yet) is not built again.
                if (existing is null && layout.HasTag(layoutTag)
                    && BuildRevision.Matches(await BuildRevision.ReadAsync(layout, layoutTag, null, ct).ConfigureAwait(false), commit))
                    plan = plan with
                    {
                        Existing = (await layout.GetManifestAsync(layoutTag, null, ct).ConfigureAwait(false)).Digest,
                        Where = $"in {LayoutReference.Format(builder.LayoutDirectory, layoutTag)}",
                    };
                if (plan.Existing is null)
                {
                    // Only here is the commit's source needed: a commit other than the checkout may be promoted from
                    // its existing build, never built from the checkout's files under its name.
                    if (session.Options.Checkout is { } checkout && !BuildRevision.Matches(checkout, commit))
                        throw new PromotionException($"commit {commit} has no build of {image.Name} yet (neither {target} nor the layout holds one), and a build is of the checkout, which is {checkout}: check out {commit} first, or drop --commit");
                    tool ??= await builder.ChooseBuilderAsync(image.Build, ct).ConfigureAwait(false);
                    plan = plan with { Builder = image.Build.Builder == "auto" ? tool : image.Build.Builder };
                    if (session.DryRun)
                        session.Planned.SetTag(LayoutReference.Format(builder.LayoutDirectory, plan.LayoutTag),
                            PlannedDigest.From($"the build of {image.Name} at commit {session.CommitTag}"));
                }
                builds.Add(plan);
            }
        return new PromotionPlan { Operation = "build once", DryRun = session.DryRun, Builds = builds };
    }

    /// <summary>The commit this run builds and pushes: the full SHA when known, else the commit tag.</summary>
    private string Commit => session.Options.Commit ?? session.CommitTag;

    /// <summary>The tag an image's build carries in the OCI layout: the commit, prefixed by the image when the application has several.</summary>
    public string LayoutTag(ApplicationSettings application, ImageSettings image) =>
        application.Images.Count == 1 ? session.CommitTag : $"{image.Name}-{session.CommitTag}";

    /// <summary>The push of each build into the first environment under the commit tag.</summary>
    public async Task<PromotionPlan> PlanPushAsync(ReleaseSelection selection, CancellationToken ct)
    {
        var layout = Path.Combine(session.ArtifactsDirectory, "oci");
        var releases = new List<ReleasePlan>();
        foreach (var app in selection.Applications(Config))
        {
            var images = new List<ImagePlan>();
            foreach (var image in app.Images)
            {
                var target = session.Reference(app, image, Config.First);
                var tag = LayoutTag(app, image);
                var source = LayoutReference.Format(layout, tag);
                var existing = await session.Planned.ResolveAsync(session.Client(Config.First), target, ct).ConfigureAwait(false);
                // The build may come from another job (a Build stage's layout, or a tag pushed earlier): re-used only as this commit's.
                if (existing is not null)
                {
                    if (existing.Value is { } pushed)
                        await BuildRevision.RequireAsync(new RegistrySource(session.Client(Config.First), target.Repository), pushed.ToString(), pushed, Commit, target.ToString(), ct).ConfigureAwait(false);
                    images.Add(Image(image.Name, target.ToString(), existing, target, existing.Value, sameRepository: true, Config.First.TagMayMove));
                    continue;
                }
                PlannedDigest digest;
                if (new LayoutSource(layout).HasTag(tag))
                {
                    await BuildRevision.RequireAsync(new LayoutSource(layout), tag, null, Commit, source, ct).ConfigureAwait(false);
                    digest = PlannedDigest.Known((await new LayoutSource(layout).GetManifestAsync(tag, null, ct).ConfigureAwait(false)).Digest);
                }
                else
                    digest = session.Planned.Tag(source)
                        ?? throw new PromotionException($"{target} does not exist and {layout} holds no build of commit {session.CommitTag}: build the commit first");
                var plan = Image(image.Name, source, digest, target, null, sameRepository: false, Config.First.TagMayMove);
                if (digest.Value is { } d)
                    plan = await WithCopyPlanAsync(plan, new LayoutSource(layout), tag, target.WithDigest(d), ct).ConfigureAwait(false);
                images.Add(plan);
            }
            releases.Add(new ReleasePlan { Kind = "push", Application = app.Name, To = Config.First.Name, Images = images });
        }
        return await NoteAsync(new PromotionPlan { Operation = $"push into {Config.First.Name}", DryRun = session.DryRun, Releases = releases }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The promotion of every selected application into each of <paramref name="targets"/> (an environment, or every
    /// environment of a group), from each target's upstream environment or from <paramref name="from"/>.
    /// </summary>
    public async Task<PromotionPlan> PlanPromotionAsync(ReleaseSelection selection, IReadOnlyList<EnvironmentSettings> targets, string? from,
        bool? autoMerge, CancellationToken ct)
    {
        var releases = new List<ReleasePlan>();
        foreach (var to in targets)
        {
            var source = from is null ? Config.Upstream(to)
                ?? throw new PromotionException($"{to.Name} is the first environment, where builds are pushed: promote into an environment that comes from it")
                : Config.Environment(from);
            foreach (var app in selection.Applications(Config))
            {
                var images = new List<(ImageSettings Image, ImageReference Source, PlannedDigest Digest)>();
                foreach (var image in app.Images)
                {
                    var sourceReference = session.Reference(app, image, source);
                    var pinned = selection.PinnedFor(app, image, i => session.Reference(app, i, source));
                    var digest = pinned is { } p ? PlannedDigest.Known(p)
                        : await session.Planned.ResolveAsync(session.Client(source), sourceReference, ct).ConfigureAwait(false)
                          ?? throw new PromotionException($"{sourceReference} does not exist: promote into {source.Name} first, or pass --digest=sha256:…");
                    // A pinned digest is the source itself: the source tag may point elsewhere by now.
                    images.Add((image, pinned is { } pin ? sourceReference.WithTagAndDigest(sourceReference.Tag, pin) : sourceReference, digest));
                }
                releases.Add(await PlanReleaseAsync("promotion", app, source.Name, to, images, null, autoMerge, ct).ConfigureAwait(false));
            }
        }
        var names = string.Join(", ", targets.Select(t => t.Name));
        return await NoteAsync(new PromotionPlan { Operation = $"promote into {names}", DryRun = session.DryRun, Releases = releases }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A rollback of every selected application in each of <paramref name="targets"/> to an earlier release: the
    /// release tag <paramref name="toRelease"/>, or (<paramref name="previous"/>) the newest release whose images are not
    /// what runs now. The whole release goes back, through the gates the configuration names for rollbacks.
    /// </summary>
    public async Task<PromotionPlan> PlanRollbackAsync(ReleaseSelection selection, IReadOnlyList<EnvironmentSettings> targets, string? toRelease,
        bool previous, bool? autoMerge, CancellationToken ct)
    {
        if ((toRelease is null) == !previous)
            throw new PromotionException("Rollback needs exactly one of --to-release=release-YYYYMMDD-HHMMSS or --previous: say which release to go back to");
        var releases = new List<ReleasePlan>();
        foreach (var env in targets)
            foreach (var app in selection.Applications(Config))
            {
                var client = session.Client(env);
                var first = session.Reference(app, app.Images[0], env);
                var running = new Dictionary<string, Digest?>();
                foreach (var image in app.Images)
                {
                    var r = session.Reference(app, image, env);
                    running[image.Name] = (await client.HeadManifestAsync(r.Repository, r.Tag!, ct).ConfigureAwait(false))?.Digest;
                }
                var tags = await ReleaseTagsAsync(client, first, ct).ConfigureAwait(false);
                string tag;
                if (toRelease is not null)
                {
                    if (!tags.Contains(toRelease, StringComparer.Ordinal))
                        throw new PromotionException($"--to-release={toRelease}: {first.Name} has no such tag (releases: {(tags.Count == 0 ? "none" : string.Join(", ", tags.TakeLast(5)))}): pass an existing release tag");
                    tag = toRelease;
                }
                else
                {
                    string? found = null;
                    foreach (var candidate in tags.Reverse())
                    {
                        var digests = await ReleaseDigestsAsync(app, env, candidate, ct).ConfigureAwait(false);
                        if (digests is not null && app.Images.Any(i => digests[i.Name] != running[i.Name])) { found = candidate; break; }
                    }
                    tag = found ?? throw new PromotionException($"--previous: {first.Name} has no release other than the one {env.Name} runs ({running[app.Images[0].Name]?.ToString() ?? "nothing"}): pass --to-release=TAG, or release first");
                }
                var release = await ReleaseDigestsAsync(app, env, tag, ct).ConfigureAwait(false)
                    ?? throw new PromotionException($"release {tag} of application '{app.Name}' is incomplete in {env.Name}: some image has no tag {tag}; pass another release");
                session.Log.Information($"rollback of {app.Name} in {env.Name}: going back to {tag} ({string.Join(", ", app.Images.Select(i => $"{i.Name} {release[i.Name]}"))})");
                var images = app.Images.Select(i => (i, session.Reference(app, i, env).WithTag(tag), PlannedDigest.Known(release[i.Name]!.Value))).ToList();
                releases.Add(await PlanReleaseAsync("rollback", app, env.Name, env, images, tag, autoMerge, ct).ConfigureAwait(false));
            }
        return await NoteAsync(new PromotionPlan { Operation = $"roll back {string.Join(", ", targets.Select(t => t.Name))}", DryRun = session.DryRun, Releases = releases }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Release tags <c>PREFIX-YYYYMMDD-HHMMSS</c> (UTC, the same instant on every image) on what the release
    /// environments run. Up to date (nothing new) when the newest release tag already marks exactly those digests.
    /// A digest pinned in <paramref name="selection"/> (what a CI stage promoted) must be what the environment runs.
    /// </summary>
    public async Task<PromotionPlan> PlanReleaseTagAsync(ReleaseSelection selection, IReadOnlyList<EnvironmentSettings> targets, DateTimeOffset now, CancellationToken ct)
    {
        var releaseTag = $"{Config.Release.TagPrefix}{now.UtcDateTime:yyyyMMdd-HHmmss}";
        var releases = new List<ReleasePlan>();
        foreach (var env in targets)
            foreach (var app in selection.Applications(Config))
            {
                var client = session.Client(env);
                var current = new List<(ImageSettings Image, ImageReference Reference, PlannedDigest Digest)>();
                foreach (var image in app.Images)
                {
                    var reference = session.Reference(app, image, env);
                    var digest = await session.Planned.ResolveAsync(client, reference, ct).ConfigureAwait(false)
                        ?? throw new PromotionException($"{reference} does not exist: promote into {env.Name} first");
                    // A CI stage passes the digest it promoted: the release tag marks what production runs, never a
                    // digest a later promotion replaced.
                    if (selection.PinnedFor(app, image, i => session.Reference(app, i, env)) is { } pinned && digest.Value is { } runs && runs != pinned)
                        throw new PromotionException($"{reference} points at {runs}, not at {pinned} (the digest given): a later promotion moved it, "
                            + "so this run does not release it; the release tag marks what production runs");
                    current.Add((image, reference, digest));
                }
                var tags = await ReleaseTagsAsync(client, current[0].Reference, ct).ConfigureAwait(false);
                var newest = tags.LastOrDefault();
                var marked = newest is null || current.Any(c => !c.Digest.IsKnown) ? null : await ReleaseDigestsAsync(app, env, newest, ct).ConfigureAwait(false);
                var tag = marked is not null && current.All(c => marked[c.Image.Name] == c.Digest.Value) ? newest! : releaseTag;
                var images = new List<ImagePlan>();
                foreach (var (image, reference, digest) in current)
                {
                    var destination = reference.WithTag(tag);
                    var old = tag == releaseTag ? null : digest.Value;
                    images.Add(Image(image.Name, reference.ToString(), digest, destination, old, sameRepository: true, tagMayMove: false));
                }
                releases.Add(new ReleasePlan { Kind = "release", Application = app.Name, From = env.Name, To = env.Name, Images = images, ReleaseTag = tag });
            }
        return await NoteAsync(new PromotionPlan { Operation = $"release tag in {Config.Release.Environment}", DryRun = session.DryRun, Releases = releases }, ct).ConfigureAwait(false);
    }

    /// <summary>The release tags of a repository, oldest first (the timestamp makes text order time order).</summary>
    public async Task<IReadOnlyList<string>> ReleaseTagsAsync(RegistryClient client, ImageReference reference, CancellationToken ct)
    {
        var tags = await client.ListTagsAsync(reference.Repository, ct).ConfigureAwait(false);
        return tags.Where(t => t.StartsWith(Config.Release.TagPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The digest each image's <paramref name="tag"/> marks in <paramref name="environment"/>; null when an image lacks the tag.</summary>
    public async Task<IReadOnlyDictionary<string, Digest?>?> ReleaseDigestsAsync(ApplicationSettings application, EnvironmentSettings environment, string tag, CancellationToken ct)
    {
        var digests = new Dictionary<string, Digest?>(StringComparer.Ordinal);
        foreach (var image in application.Images)
        {
            var reference = session.Reference(application, image, environment);
            var head = await session.Client(environment).HeadManifestAsync(reference.Repository, tag, ct).ConfigureAwait(false);
            if (head is null) return null;
            digests[image.Name] = head.Digest;
        }
        return digests;
    }

    private async Task<ReleasePlan> PlanReleaseAsync(string kind, ApplicationSettings app, string from, EnvironmentSettings to,
        IReadOnlyList<(ImageSettings Image, ImageReference Source, PlannedDigest Digest)> sources, string? rollbackTo, bool? autoMerge, CancellationToken ct)
    {
        var images = new List<ImagePlan>();
        // Images an earlier phase of this dry run would first put into the source: not there to read yet.
        var notYetThere = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (image, source, digest) in sources)
        {
            var destination = session.Reference(app, image, to);
            var old = await session.Planned.ResolveAsync(session.Client(to), destination, ct).ConfigureAwait(false);
            var plan = Image(image.Name, source.ToString(), digest, destination, old?.Value,
                sameRepository: source.Registry == destination.Registry && source.Repository == destination.Repository, to.TagMayMove);
            if (!plan.TagMayMove && plan.Tag.Old is { } was && digest.Value is { } next && was != next)
                throw new PromotionConflictException($"tag {destination} already points at {was}, and {to.Name} does not allow moving it: promote under a new tag, or set the environment's tagMayMove to true");
            if (digest.Value is { } d && session.DryRun
                && await session.Copier.Client(source.Registry).HeadManifestAsync(source.Repository, d.ToString(), ct).ConfigureAwait(false) is null)
                notYetThere.Add(image.Name);
            else if (digest.Value is { } known && !plan.UpToDate && !plan.SameRepository)
                plan = await WithCopyPlanAsync(plan, new RegistrySource(session.Copier.Client(source.Registry), source.Repository), known.ToString(), destination.WithDigest(known), ct).ConfigureAwait(false);
            images.Add(plan);
        }

        var gates = Config.GatesFor(app.Name, to.Name);
        IReadOnlyList<GateResult> verdicts = [];
        if (gates is not null)
        {
            var context = new GateContext
            {
                Application = app.Name, Kind = kind, From = from, To = to.Name, Chain = Config.Chain(to), Settings = gates,
                OnlyKeys = kind == "rollback" ? gates.RollbackGates : null,
                Images = images.Where(i => i.Digest.IsKnown && !notYetThere.Contains(i.Image)).Select(i => new GateImage(i.Image, ImageReference.Parse(i.Source), i.Digest.Value!.Value)).ToArray(),
                Evidence = new TrustedGateEvidence(session, _clock, to.Name), Facts = new RegistryGateFacts(session, app),
                Requester = session.Options.Identity, Branch = await session.BranchAsync(ct).ConfigureAwait(false), Commit = session.Options.Commit, Clock = _clock,
            };
            verdicts = await new GateJudge().JudgeAsync(context, images.Where(i => !i.Digest.IsKnown || notYetThere.Contains(i.Image)).Select(i => i.Image).ToArray(), ct).ConfigureAwait(false);
            if (verdicts.Any(v => v.Gate == ApprovalGate.GateName) && to.GitOps?.GitHub is null)
                throw new PromotionException($"{Config.Source}: environments.{to.Name}.gates.approvals reads reviews of the promotion pull request, but environments.{to.Name}.gitops.github is not configured: add it");
        }

        GitOpsPlan? gitops = null;
        if (to.GitOps is not null)
        {
            var refused = verdicts.Any(v => !v.Passed && !v.Pending);
            gitops = images.All(i => i.Digest.IsKnown) && !refused
                ? await new UpdateGitOps(session).PlanAsync(app, to, images.Select(i => new GitOpsImage(app.Image(i.Image), ImageReference.Parse(i.Destination), i.Digest.Value!.Value, i.Source)).ToArray(), autoMerge, ct).ConfigureAwait(false)
                : refused ? null : UpdateGitOps.PlanAfterBuild(app, to, app.Images, autoMerge);
        }
        return new ReleasePlan
        {
            Kind = kind, Application = app.Name, From = from, To = to.Name, Images = images, Gates = verdicts, Gated = gates is not null,
            GitOps = gitops, RollbackTo = rollbackTo, AutoMerge = autoMerge,
        };
    }

    private static ImagePlan Image(string name, string source, PlannedDigest digest, ImageReference destination, Digest? old, bool sameRepository, bool tagMayMove) => new()
    {
        Image = name, Source = source, Digest = digest, Destination = destination.ToString(),
        Tag = new TagChange(destination.ToString(), old, digest), SameRepository = sameRepository, TagMayMove = tagMayMove,
    };

    private async Task<ImagePlan> WithCopyPlanAsync(ImagePlan plan, IImageSource source, string sourceReference, ImageReference destination, CancellationToken ct)
    {
        var copy = await session.Copier.PlanAsync(source, sourceReference, destination, new CopyOptions(), ct).ConfigureAwait(false);
        if (copy.UpToDate) return plan with { Manifests = [] };
        return plan with
        {
            Blobs = copy.Blobs.Select(b => new BlobPlan(b.Blob.Digest.ToString(), b.Blob.Size, b.Action, b.Reason)).ToArray(),
            Manifests = copy.Children.Where(c => !c.AlreadyThere).Select(c => c.Manifest.Digest.ToString()).Append(copy.Top.Digest.ToString()).ToArray(),
        };
    }

    /// <summary>In a dry run, what the plan would leave behind for the phases after it: tags, records, and the evidence that travels with a copy.</summary>
    private async Task<PromotionPlan> NoteAsync(PromotionPlan plan, CancellationToken ct)
    {
        if (!session.DryRun) return plan;
        foreach (var release in plan.Releases.Where(r => !r.Refused))
        {
            // What the later phases of this dry run will read is what the gates of this release's target trust.
            var evidence = new TrustedGateEvidence(session, _clock, release.To);
            foreach (var image in release.Images)
            {
                session.Planned.SetTag(image.Destination, image.Digest);
                if (image.Digest.Value is not { } digest || image.UpToDate) continue;
                var pinned = ImageReference.Parse(image.Destination).WithDigest(digest);
                if (!image.SameRepository && !LayoutReference.TryParse(image.Source, out _, out _))
                {
                    var from = ImageReference.Parse(image.Source).WithDigest(digest);
                    foreach (var scan in (await evidence.ScanResultsAsync(from, ct).ConfigureAwait(false)).Counted) session.Planned.AddScan(pinned, scan);
                    foreach (var record in (await evidence.PromotionRecordsAsync(from, ct).ConfigureAwait(false)).Counted) session.Planned.AddRecord(pinned, record);
                }
                session.Planned.AddRecord(pinned, new PromotionRecord
                {
                    Kind = release.Kind, Outcome = "promoted", Service = release.Application, Digest = digest.ToString(), From = release.From,
                    To = release.To, ToReference = image.Destination, Who = session.Options.Identity, When = _clock.GetUtcNow(),
                    Images = [new ImageRecord(image.Image, image.Destination, digest.ToString())],
                });
            }
        }
        return plan;
    }
}
