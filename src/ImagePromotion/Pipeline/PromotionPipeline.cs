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

/// <summary>One row of the status table: an application's image in an environment and the digest it points at.</summary>
public sealed record StatusRow(string Application, string Environment, string Image, string Reference, string? Digest);

/// <summary>
/// The pipeline's phases for any host (the Cake recipe, tests): each one plans, prints the plan, and in a real
/// run executes exactly that plan. The plans of a run are also written to <c>plan.json</c> in the artifacts
/// directory (with what was done, in a real run), so a dry run and the real run can be compared.
/// </summary>
public sealed class PromotionPipeline(PromotionSession session, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private ReleasePlanner Planner => new(session, _clock);

    /// <summary>Builds every selected image not yet pushed for this commit, into the OCI layout.</summary>
    public async Task<PromotionPlan> BuildAsync(ReleaseSelection selection, CancellationToken ct)
    {
        var plan = await Planner.PlanBuildsAsync(selection, ct).ConfigureAwait(false);
        Print(plan);
        if (!session.DryRun) await new PlanExecutor(session, _clock).ExecuteBuildsAsync(plan, ct).ConfigureAwait(false);
        Save(plan, null);
        return plan;
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

    /// <summary>The status table: every application × environment × image with the digest its tag points at, then the newest release.</summary>
    public async Task<IReadOnlyList<StatusRow>> StatusAsync(ReleaseSelection selection, CancellationToken ct)
    {
        var rows = new List<StatusRow>();
        var releaseTargets = session.Config.Targets(session.Config.Release.Environment).Select(e => e.Name).ToHashSet();
        foreach (var app in selection.Applications(session.Config))
        {
            var releases = new List<StatusRow>();
            foreach (var env in session.Config.Environments)
            {
                var client = session.Client(env);
                foreach (var image in app.Images)
                {
                    var reference = session.Reference(app, image, env);
                    var head = await client.HeadManifestAsync(reference.Repository, reference.Tag!, ct).ConfigureAwait(false);
                    rows.Add(new StatusRow(app.Name, env.Name, image.Name, reference.ToString(), head?.Digest.ToString()));
                    if (!releaseTargets.Contains(env.Name) || head is null) continue;
                    var newest = (await Planner.ReleaseTagsAsync(client, reference, ct).ConfigureAwait(false)).LastOrDefault();
                    if (newest is null) continue;
                    var release = await client.HeadManifestAsync(reference.Repository, newest, ct).ConfigureAwait(false);
                    releases.Add(new StatusRow(app.Name, releaseTargets.Count == 1 ? "release" : $"release:{env.Name}", image.Name, reference.WithTag(newest).ToString(), release?.Digest.ToString()));
                }
            }
            rows.AddRange(releases);
        }
        return rows;
    }

    /// <summary>The status table as text: one row per application, environment and image (the columns that vary).</summary>
    public static IReadOnlyList<string> StatusTable(IReadOnlyList<StatusRow> rows)
    {
        var several = rows.Select(r => r.Application).Distinct().Count() > 1 || rows.Select(r => r.Image).Distinct().Count() > 1;
        var columns = several
            ? new[] { ("application", rows.Select(r => r.Application)), ("environment", rows.Select(r => r.Environment)), ("image", rows.Select(r => r.Image)), ("reference", rows.Select(r => r.Reference)) }
            : new[] { ("environment", rows.Select(r => r.Environment)), ("reference", rows.Select(r => r.Reference)) };
        var widths = columns.Select(c => Math.Max(c.Item1.Length, c.Item2.Select(v => v.Length).DefaultIfEmpty(0).Max())).ToArray();
        var lines = new List<string>
        {
            string.Join("  ", columns.Select((c, i) => c.Item1.PadRight(widths[i]))) + "  digest",
            string.Join("  ", widths.Select(w => new string('-', w))) + "  " + new string('-', 71),
        };
        foreach (var row in rows)
        {
            var values = several ? new[] { row.Application, row.Environment, row.Image, row.Reference } : new[] { row.Environment, row.Reference };
            lines.Add(string.Join("  ", values.Select((v, i) => v.PadRight(widths[i]))) + "  " + (row.Digest ?? "(absent)"));
        }
        if (rows.All(r => r.Digest is not null))
            foreach (var group in rows.GroupBy(r => (r.Application, r.Image)))
            {
                var digests = group.Select(r => r.Digest).Distinct().Count();
                var who = several ? $"{group.Key.Application}/{group.Key.Image}: " : "";
                lines.Add(who + (digests == 1 ? "one digest in every environment" : $"{digests} different digests across environments"));
            }
        return lines;
    }

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
