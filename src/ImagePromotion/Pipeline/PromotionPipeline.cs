using System.Text.Json;
using System.Text.Json.Serialization;
using ImagePromotion.Configuration;
using ImagePromotion.Pipeline.Execution;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Pipeline.Steps;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline;

/// <summary>A phase's plan and, in a real run, what executing it did (null in a dry run).</summary>
public sealed record PhaseResult(PromotionPlan Plan, PhaseOutcome? Outcome)
{
    /// <summary>Throws the host's one-line error when a release was refused (real runs only).</summary>
    public void ThrowIfRefused() => Outcome?.ThrowIfRefused();

    /// <summary>True when a gate refused a release (in a dry run: would refuse).</summary>
    public bool Refused => Outcome?.Releases.Any(r => r.Refused) ?? Plan.Releases.Any(r => r.Refused);
}

/// <summary>One row of the status table: an application's image in an environment and the digest it points at (null: no such tag, or <see cref="Problem"/>).</summary>
public sealed record StatusRow(string Application, string Environment, string Image, string Reference, string? Digest)
{
    /// <summary>Why the digest is unknown when the registry did not answer ("unreachable: Connection refused"); null otherwise.</summary>
    public string? Problem { get; init; }
}

/// <summary>
/// The pipeline's phases for any host (the Cake recipe, tests): each one plans, prints the plan, and in a real
/// run executes exactly that plan. The plans of a run are also written to <c>plan.json</c> in the artifacts
/// directory (with what was done, in a real run), so a dry run and the real run can be compared.
/// </summary>
public sealed class PromotionPipeline(PromotionSession session, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private ReleasePlanner Planner => new(session, _clock);

    /// <summary>
    /// Builds every selected image not yet pushed for this commit, into the OCI layout; returns the plan and (in a real
    /// run) each image's digest, the one later CI stages promote.
    /// </summary>
    public async Task<(PromotionPlan Plan, IReadOnlyList<BuiltImage> Images)> BuildAsync(ReleaseSelection selection, CancellationToken ct)
    {
        var plan = await Planner.PlanBuildsAsync(selection, ct).ConfigureAwait(false);
        Print(plan);
        IReadOnlyList<BuiltImage> images = session.DryRun ? [] : await new PlanExecutor(session, _clock).ExecuteBuildsAsync(plan, ct).ConfigureAwait(false);
        Save(plan, null);
        return (plan, images);
    }

    /// <summary>Pushes each build to the first environment under its commit tag.</summary>
    public async Task<PhaseResult> PushAsync(ReleaseSelection selection, CancellationToken ct) =>
        await RunAsync(await Planner.PlanPushAsync(selection, ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    /// <summary>Scans <paramref name="image"/>, or the commit's image of every selected application in the first environment.</summary>
    /// <param name="scannerPath">PATH used to look for scanners (tests); null: this process's PATH.</param>
    /// <param name="selection">The applications to scan; used when <paramref name="image"/> is null.</param>
    /// <param name="image">One image to scan (a tag or a digest); null scans the selection.</param>
    /// <param name="ct">Cancels the scan and stops running scanners.</param>
    public async Task<IReadOnlyList<ScanOutcome>> ScanAsync(ReleaseSelection selection, ImageReference? image, CancellationToken ct, string? scannerPath = null) =>
        image is null ? await new ScanImage(session, _clock).RunAsync(selection, ct, scannerPath).ConfigureAwait(false)
            : [await new ScanImage(session, _clock).RunAsync(image, ct, scannerPath).ConfigureAwait(false)];

    /// <summary>
    /// Promotes every selected application into <paramref name="into"/> (an environment, or each environment of a
    /// group in one run, each with its own gates), or only into <paramref name="environment"/> when given.
    /// </summary>
    /// <param name="from">The source environment; null: each target's <c>from:</c>.</param>
    /// <param name="selection">The applications to promote (default all).</param>
    /// <param name="into">The environment or group to promote into (<c>staging</c>, <c>production</c>).</param>
    /// <param name="environment">One environment of the group (<c>--environment=NAME</c>); null: all of them.</param>
    /// <param name="autoMerge">Overrides the environment's auto-merge of the GitOps pull request; null: as configured.</param>
    /// <param name="ct">Cancels the run.</param>
    public async Task<PhaseResult> PromoteAsync(ReleaseSelection selection, string into, string? environment, string? from, bool? autoMerge, CancellationToken ct) =>
        await RunAsync(await Planner.PlanPromotionAsync(selection, Targets(into, environment), from, autoMerge, ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    /// <summary>Tags what the release environments run <c>release-YYYYMMDD-HHMMSS</c>, the same tag on every image.</summary>
    /// <param name="environment">Only this environment of the release group; null: every one.</param>
    /// <param name="selection">The applications to tag (default all).</param>
    /// <param name="now">The instant the tag is named after, in UTC.</param>
    /// <param name="ct">Cancels the run.</param>
    public async Task<PhaseResult> ReleaseTagAsync(ReleaseSelection selection, string? environment, DateTimeOffset now, CancellationToken ct) =>
        await RunAsync(await Planner.PlanReleaseTagAsync(selection, Targets(session.Config.Release.Environment, environment), now, ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    /// <summary>Rolls the whole release of each selected application back to an earlier release tag.</summary>
    public async Task<PhaseResult> RollbackAsync(ReleaseSelection selection, string? environment, string? toRelease, bool previous, bool? autoMerge, CancellationToken ct) =>
        await RunAsync(await Planner.PlanRollbackAsync(selection, Targets(session.Config.Release.Environment, environment), toRelease, previous, autoMerge, ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    /// <summary>
    /// The status table's rows: every application × environment × image with the digest its tag points at, then the
    /// release the release environments run (after a rollback, that earlier release). A registry that does not answer
    /// is a row with <see cref="StatusRow.Problem"/> set, never a failure.
    /// </summary>
    public Task<IReadOnlyList<StatusRow>> StatusAsync(ReleaseSelection selection, CancellationToken ct) =>
        new Status.StatusReader(session, Planner).ReadAsync(selection, ct);

    /// <summary>The status table as text, at most <see cref="Status.StatusTable.Width"/> columns unless <paramref name="wide"/>.</summary>
    public static IReadOnlyList<string> StatusTable(IReadOnlyList<StatusRow> rows, bool wide = false) => Status.StatusTable.Format(rows, wide);

    private IReadOnlyList<EnvironmentSettings> Targets(string into, string? environment)
    {
        var targets = session.Config.Targets(into);
        if (environment is null) return targets;
        return targets.Where(t => t.Name == environment).ToArray() is { Length: 1 } one ? one
            : throw new PromotionException($"--environment={environment} is not among the environments this target promotes into ({string.Join(", ", targets.Select(t => t.Name))}): pass one of them, or drop the argument");
    }

    private async Task<PhaseResult> RunAsync(PromotionPlan plan, CancellationToken ct)
    {
        Print(plan);
        if (session.DryRun)
        {
            foreach (var refused in plan.Releases.Where(r => r.Refused))
                session.Log.Warning($"dry run: the gates above would refuse the {refused.Kind} of {refused.Application} into {refused.To}");
            Save(plan, null);
            return new PhaseResult(plan, null);
        }
        var outcome = await new PlanExecutor(session, _clock).ExecuteAsync(plan, ct).ConfigureAwait(false);
        Save(plan, outcome);
        return new PhaseResult(plan, outcome);
    }

    private void Print(PromotionPlan plan)
    {
        foreach (var release in plan.Releases.Where(r => r.Gated && !plan.DryRun))
            session.Log.Information($"gates for {release.From} -> {release.To} of {Describe(release)}:\n{release.Report.ToTable()}");
        // An environment without a gates key is promoted into unjudged: said in its gate table's place, loudly for the
        // release environments (production), never silently.
        var releaseTargets = session.Config.Targets(session.Config.Release.Environment).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var release in plan.Releases.Where(r => !r.Gated && r.Kind is "promotion" or "rollback"))
        {
            var line = $"gates for {release.From} -> {release.To} of {Describe(release)}: no gates configured (environments.{release.To} has no gates key and no policy applies)";
            if (releaseTargets.Contains(release.To)) session.Log.Warning(line + ": nothing is checked before this release environment changes");
            else session.Log.Information(line);
        }
        foreach (var line in PlanText.Describe(plan))
            if (plan.DryRun) session.Log.Information(line); else session.Log.Verbose(line);
    }

    private static string Describe(ReleasePlan release) => release.Images.Count == 1
        ? release.Images[0].Digest.ToString()
        : $"{release.Application} ({string.Join(", ", release.Images.Select(i => $"{i.Image} {i.Digest}"))})";

    /// <summary>Writes every plan of this session (and what was done) to plan.json, for review and for comparing a dry run with the real run.</summary>
    private void Save(PromotionPlan plan, PhaseOutcome? outcome)
    {
        lock (Journal)
        {
            Journal.Add(new
            {
                plan,
                executed = outcome?.Releases.Select(r => new
                {
                    r.Plan.Application, r.Plan.To, outcome = r.Record.Outcome,
                    copies = r.Copies.Select(c => new { c.Destination, c.SourceDigest, c.BlobsCopied, c.BlobsMounted, c.BlobsSkipped, c.UpToDate }),
                    tags = r.Tags.Select(t => new { t.Reference, previous = t.Previous?.ToString(), next = t.Next.ToString() }),
                    gitops = r.GitOps is { } g ? new { g.Branch, g.Commit, g.Changed, g.Files, g.PullRequestUrl } : null,
                }),
            });
            Directory.CreateDirectory(session.ArtifactsDirectory);
            File.WriteAllText(Path.Combine(session.ArtifactsDirectory, PlanFile), JsonSerializer.Serialize(Journal, JsonOptions));
        }
    }

    /// <summary>The file the plans of a run are written to, in the artifacts directory.</summary>
    public const string PlanFile = "plan.json";

    private List<object> Journal => session.PlanJournal;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new DigestJsonConverter() },
    };

    private sealed class DigestJsonConverter : JsonConverter<Digest>
    {
        public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Digest.Parse(reader.GetString()!);
        public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}
