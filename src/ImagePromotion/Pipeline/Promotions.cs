using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline;

/// <summary>One row of the digest table the sandbox run ends with.</summary>
public sealed record EnvironmentImage(string Environment, string Reference, string? Digest);

/// <summary>
/// The promotion phases. Each is idempotent and reads the state it starts from in the registries, so a
/// later CI job on another machine can run the next phase without redoing the earlier ones.
/// </summary>
public sealed class Promotions(PromotionSession session)
{
    private PromotionConfig Config => session.Config;
    private EnvironmentSettings Dev => Config.Environments[0];

    /// <summary>
    /// Builds the commit's image into the OCI layout, labelled with the commit (see <see cref="BuildRevision"/>), unless
    /// the commit is built already: the dev tag holds it, or the layout does (handed over by an earlier CI stage). Either
    /// is re-used only when its revision label is the commit; a dev tag holding another commit's build is refused.
    /// </summary>
    public async Task<string> BuildOnceAsync(CancellationToken ct)
    {
        var target = session.Reference(Dev);
        var commit = session.Options.Commit ?? session.CommitTag;
        var existing = await session.Client(Dev).HeadManifestAsync(target.Repository, target.Tag!, ct).ConfigureAwait(false);
        if (existing is not null)
        {
            await BuildRevision.RequireAsync(new RegistrySource(session.Client(Dev), target.Repository), target.Tag!, existing.Digest, commit, target.ToString(), ct).ConfigureAwait(false);
            session.Log.Information($"{target} already exists ({existing.Digest}, built from {commit}): not building again");
            return existing.Digest.ToString();
        }
        var builder = new ImageBuilder(Config, session.ArtifactsDirectory, session.Log);
        var layout = new LayoutSource(builder.LayoutDirectory);
        if (layout.HasTag(session.CommitTag)
            && BuildRevision.Matches(await BuildRevision.ReadAsync(layout, session.CommitTag, null, ct).ConfigureAwait(false), commit))
        {
            var built = await layout.GetManifestAsync(session.CommitTag, null, ct).ConfigureAwait(false);
            session.Log.Information($"{builder.LayoutDirectory}:{session.CommitTag} already holds the build of {commit} ({built.Digest}): not building again");
            return built.Digest.ToString();
        }
        var tool = await builder.ChooseBuilderAsync(ct).ConfigureAwait(false);
        if (session.DryRun)
        {
            session.Log.Information($"dry run: would build {Config.Build.Context} with {tool} into {builder.LayoutDirectory}:{session.CommitTag}");
            return "(not built)";
        }
        session.Log.Information($"building {Config.Service} at commit {session.CommitTag} with {tool}");
        var source = await BuildRevision.SourceUrlAsync(session.Options.Environment ?? Registry.Auth.CredentialStore.ReadProcessEnvironment(), Config.ResolvePath(Config.Build.Context), ct).ConfigureAwait(false);
        await builder.BuildAsync(tool, session.CommitTag, BuildRevision.Labels(commit, source), ct).ConfigureAwait(false);
        var manifest = await layout.GetManifestAsync(session.CommitTag, null, ct).ConfigureAwait(false);
        session.Log.Information($"built {Config.Service}:{session.CommitTag} = {manifest.Digest}");
        return manifest.Digest.ToString();
    }

    /// <summary>Pushes the built layout to the dev environment under the commit tag.</summary>
    public async Task<CopyResult> PushDevAsync(CancellationToken ct)
    {
        var target = session.Reference(Dev);
        var layout = Path.Combine(session.ArtifactsDirectory, "oci");
        var existing = await session.Client(Dev).HeadManifestAsync(target.Repository, target.Tag!, ct).ConfigureAwait(false);
        var built = new LayoutSource(layout).HasTag(session.CommitTag);
        if (existing is null && !built && session.PlansEarlier("BuildOnce"))
        {
            session.Log.Information($"dry run: would push the image BuildOnce builds to {target}");
            session.PlanChange(Dev.Name);
            return Result(target.ToString(), target, null);
        }
        if (existing is null && !built)
            throw new PromotionException($"{target} does not exist and {layout} holds no build of commit {session.CommitTag}: run --target=BuildOnce first");
        // The build may come from another job (PushDev --exclusive after a Build stage): re-use it only as this commit's.
        var commit = session.Options.Commit ?? session.CommitTag;
        if (existing is not null)
        {
            await BuildRevision.RequireAsync(new RegistrySource(session.Client(Dev), target.Repository), target.Tag!, existing.Digest, commit, target.ToString(), ct).ConfigureAwait(false);
            session.Log.Information($"{target} already points at {existing.Digest}: nothing to push");
            if (!session.DryRun) await AttachProvenanceAsync(target.WithDigest(existing.Digest), onlyIfMissing: true, ct).ConfigureAwait(false);
            return Result(target.ToString(), target, existing.Digest);
        }
        await BuildRevision.RequireAsync(new LayoutSource(layout), session.CommitTag, null, commit, $"{layout}:{session.CommitTag}", ct).ConfigureAwait(false);
        var result = await session.Copier.CopyAsync(new LayoutSource(layout), session.CommitTag, target,
            Options(Dev), ct).ConfigureAwait(false);
        if (!result.UpToDate) session.PlanChange(Dev.Name);
        Report(result);
        // Provenance binds commit and builder to the digest; the push record names the builder, whom separation of
        // duties keeps from approving production.
        if (!result.DryRun && result.DestinationDigest is { } pushed)
        {
            await AttachProvenanceAsync(target.WithDigest(Digest.Parse(pushed)), onlyIfMissing: false, ct).ConfigureAwait(false);
            await new PromotionRecorder(session).RecordAsync(PromotionFacts.Record(session, "push", null, null, Dev.Name, target.ToString(), pushed,
                result.PreviousDigest, await PromotionFacts.BranchAsync(session, ct).ConfigureAwait(false)), target.WithDigest(Digest.Parse(pushed)), ct).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>
    /// Build provenance (SLSA v1, signed with the build key): the commit and builder bound to the pushed digest. A re-run
    /// attaches it only to an image that has none (its content holds no clock time, so the same facts give the same piece).
    /// </summary>
    private async Task AttachProvenanceAsync(ImageReference image, bool onlyIfMissing, CancellationToken ct)
    {
        var store = new Evidence.EvidenceStore(session.Transport, session.Log, null, session.Signers);
        var kind = Evidence.Attestations.EvidenceKind.BuildProvenance;
        if (onlyIfMissing && (await store.ListAsync(image, kind, ct).ConfigureAwait(false)).Count > 0) return;
        var env = session.Options.Environment ?? Registry.Auth.CredentialStore.ReadProcessEnvironment();
        var facts = new Evidence.Attestations.BuildFacts
        {
            BuilderId = Evidence.Attestations.BuildProvenance.BuilderIdFromEnvironment(env, session.Options.Identity),
            Commit = session.Options.Commit ?? session.CommitTag,
            SourceRepository = Evidence.Attestations.BuildProvenance.SourceRepositoryFromEnvironment(env),
            Ref = await PromotionFacts.BranchAsync(session, ct).ConfigureAwait(false),
            Context = Config.Build.Context, Containerfile = Config.Build.Containerfile, Tool = Config.Build.Builder,
            InvocationId = session.Options.RunUrl,
        };
        await store.AttachAsync(image, kind, Evidence.Attestations.BuildProvenance.Predicate(facts), null, null, ct).ConfigureAwait(false);
    }

    /// <summary>Promotes whatever <paramref name="from"/> holds (or a given digest) into <paramref name="to"/>.</summary>
    public async Task<CopyResult> PromoteAsync(string from, string to, Digest? digest, CancellationToken ct)
    {
        var source = session.Reference(Config.Environment(from));
        var targetEnv = Config.Environment(to);
        var target = session.Reference(targetEnv);
        if (digest is { } d) source = source.WithDigest(d);
        session.Log.Information($"promote {from} -> {to}: {source} -> {target}");
        var producer = from == Config.Environments[0].Name ? "PushDev" : "Promote" + char.ToUpperInvariant(from[0]) + from[1..];
        if (digest is null && (session.ChangesEarlier(from) || session.PlansEarlier(producer)
            && await session.Client(Config.Environment(from)).HeadManifestAsync(source.Repository, source.Identifier, ct).ConfigureAwait(false) is null))
        {
            session.Log.Information($"dry run: {producer} would first point {source} at a new digest; this phase would then point {target} at it");
            session.PlanChange(to);
            return Result(source.ToString(), target, null);
        }
        var result = await session.Copier.CopyAsync(source, target, Options(targetEnv), ct).ConfigureAwait(false);
        if (!result.UpToDate) session.PlanChange(to);
        Report(result);
        // Evidence travels with the digest: scans, approvals and records follow the image into the target repository.
        if (!result.DryRun)
        {
            var promoted = Digest.Parse(result.SourceDigest);
            await new Evidence.EvidenceStore(session.Transport, session.Log).CopyAsync(source.WithDigest(promoted), target, ct).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>
    /// Tags the release environment's digest <c>release-YYYYMMDD-HHMMSS</c> (UTC). A re-run for a digest
    /// whose newest release tag already points at it creates nothing; a release tag is never moved.
    /// </summary>
    public Task<CopyResult> ReleaseTagAsync(DateTimeOffset now, CancellationToken ct) => ReleaseTagAsync(now, null, ct);

    /// <summary>As <see cref="ReleaseTagAsync(DateTimeOffset, CancellationToken)"/>, for the digest a CI stage promoted.</summary>
    /// <param name="digest">The digest this run releases (a CI stage passes what it promoted): production must still point at it.</param>
    public async Task<CopyResult> ReleaseTagAsync(DateTimeOffset now, Digest? digest, CancellationToken ct)
    {
        var env = Config.Environment(Config.Release.Environment);
        var production = session.Reference(env);
        var client = session.Client(env);
        var current = await client.HeadManifestAsync(production.Repository, production.Tag!, ct).ConfigureAwait(false);
        if (session.ChangesEarlier(env.Name) || current is null && session.PlansEarlier("PromoteProduction"))
        {
            session.Log.Information($"dry run: PromoteProduction would first point {production} at a new digest; this phase would then tag it {Config.Release.TagPrefix}YYYYMMDD-HHMMSS");
            return Result(production.ToString(), production, null);
        }
        current = current
            ?? throw new PromotionException($"{production} does not exist: run --target=PromoteProduction first");
        if (digest is { } requested && current.Digest != requested)
            throw new PromotionException($"{production} points at {current.Digest}, not at {requested} (the digest given): a later promotion moved it, "
                + "so this run does not release it; the release tag marks what production runs");

        var tags = await client.ListTagsAsync(production.Repository, ct).ConfigureAwait(false);
        var newest = tags.Where(t => t.StartsWith(Config.Release.TagPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault();
        if (newest is not null)
        {
            var head = await client.HeadManifestAsync(production.Repository, newest, ct).ConfigureAwait(false);
            if (head?.Digest == current.Digest)
            {
                session.Log.Information($"{production.Name}:{newest} already marks {current.Digest}: no new release tag");
                return Result(production.ToString(), production.WithTag(newest), current.Digest);
            }
        }
        var releaseTag = $"{Config.Release.TagPrefix}{now.UtcDateTime:yyyyMMdd-HHmmss}";
        var result = await session.Copier.CopyAsync(production.WithDigest(current.Digest), production.WithTag(releaseTag),
            new CopyOptions { DryRun = session.DryRun, AllowTagMove = false, GuardTag = true }, ct).ConfigureAwait(false);
        Report(result);
        if (!result.DryRun)
        {
            // Release history: each release record names the release before it, so a rollback knows what it goes back to.
            var previous = newest is null ? null : (await client.HeadManifestAsync(production.Repository, newest, ct).ConfigureAwait(false))?.Digest.ToString();
            var record = PromotionFacts.Record(session, "release", env.Name, production.ToString(), env.Name, production.WithTag(releaseTag).ToString(),
                current.Digest.ToString(), previous, await PromotionFacts.BranchAsync(session, ct).ConfigureAwait(false));
            await new PromotionRecorder(session).RecordAsync(record, production.WithDigest(current.Digest), ct).ConfigureAwait(false);
            LastRecord = record;
        }
        return result;
    }

    /// <summary>Each environment's reference and the digest it points at now.</summary>
    public async Task<IReadOnlyList<EnvironmentImage>> DigestTableAsync(CancellationToken ct)
    {
        var rows = new List<EnvironmentImage>();
        foreach (var env in Config.Environments)
        {
            var reference = session.Reference(env);
            var head = await session.Client(env).HeadManifestAsync(reference.Repository, reference.Tag!, ct).ConfigureAwait(false);
            rows.Add(new EnvironmentImage(env.Name, reference.ToString(), head?.Digest.ToString()));
            if (env.Name == Config.Release.Environment && head is not null)
            {
                var client = session.Client(env);
                var newest = (await client.ListTagsAsync(reference.Repository, ct).ConfigureAwait(false))
                    .Where(t => t.StartsWith(Config.Release.TagPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault();
                if (newest is not null)
                {
                    var release = await client.HeadManifestAsync(reference.Repository, newest, ct).ConfigureAwait(false);
                    rows.Add(new EnvironmentImage("release", reference.WithTag(newest).ToString(), release?.Digest.ToString()));
                }
            }
        }
        return rows;
    }

    /// <summary>The record the last phase wrote, for the host's step summary.</summary>
    public PromotionRecord? LastRecord { get; private set; }

    private CopyOptions Options(EnvironmentSettings target) => new() { DryRun = session.DryRun, AllowTagMove = target.TagMayMove, GuardTag = true };

    private void Report(CopyResult r)
    {
        if (r.UpToDate) { session.Log.Information($"{r.Destination} already points at {r.SourceDigest}: nothing written"); return; }
        if (r.DryRun) { session.Log.Information($"dry run: {r.Destination} would point at {r.SourceDigest} (now {r.PreviousDigest ?? "absent"}); nothing written"); return; }
        session.Log.Information($"{r.Destination} -> {r.DestinationDigest} (replaced {r.PreviousDigest ?? "nothing"}); blobs copied {r.BlobsCopied}, mounted {r.BlobsMounted}, skipped {r.BlobsSkipped}; {r.BytesUploaded} bytes uploaded; requests {string.Join(", ", r.Requests.Select(kv => $"{kv.Key}={kv.Value}"))}");
    }

    /// <summary>A result for a phase that wrote nothing: already done, or (no digest) planned on an earlier phase's output.</summary>
    private CopyResult Result(string source, ImageReference target, Digest? digest) => new()
    {
        Source = source, Destination = target.ToString(), SourceDigest = digest?.ToString() ?? "(planned)",
        DestinationDigest = digest?.ToString(), MediaType = "", UpToDate = digest is not null, DryRun = digest is null || session.DryRun,
    };
}
