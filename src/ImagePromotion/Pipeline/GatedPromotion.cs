using System.Text.Json;
using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.Evidence;
using ImagePromotion.Gates;
using ImagePromotion.GitOps.PullRequests;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline;

/// <summary>What to promote: from one environment into another, optionally a given digest or source image.</summary>
public sealed record GatedPromotionRequest(string From, string To)
{
    public Digest? Digest { get; init; }
    /// <summary>Overrides gitops.github.autoMerge for the final GitOps step.</summary>
    public bool? AutoMerge { get; init; }
    /// <summary>promotion, or rollback (an earlier release back into the environment).</summary>
    public string Kind { get; init; } = "promotion";
    /// <summary>The exact image to promote (a rollback names a release tag); default: the From environment's reference.</summary>
    public ImageReference? Source { get; init; }
    /// <summary>Configuration gate names to judge (a rollback's subset); null: every configured gate.</summary>
    public IReadOnlyList<string>? OnlyGates { get; init; }
}

/// <summary>The outcome: the copy (null when refused), the gate report, the GitOps step and the record written.</summary>
public sealed record GatedPromotionOutcome(string Digest, CopyResult? Copy, GateReport? Gates, GitOpsOutcome? GitOps, PromotionRecord Record)
{
    public bool Refused => Record.Outcome == "refused";

    /// <summary>The one line a host exits with when the promotion was refused: every failing gate, and the pull request.</summary>
    public void ThrowIfRefused()
    {
        if (!Refused) return;
        var failed = Gates?.FailedGates.Select(g => $"{g.Gate} ({g.Reason})") ?? [];
        throw new PromotionException($"promotion of {Digest} to {Record.To} refused by gate(s): {string.Join("; ", failed)}"
            + (Record.PullRequestUrl is { } url ? $"; review the pull request {url} and run again" : "; nothing was written to " + Record.To));
    }
}

/// <summary>
/// A promotion through the target environment's gates. Every gate is judged before anything is written; when
/// approvals are required the GitOps branch and pull request are pushed first (git only, nothing in the target
/// registry) so there is something to review, and a re-run after the approvals promotes and merges.
/// </summary>
public sealed class GatedPromotion(PromotionSession session, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<GatedPromotionOutcome> PromoteAsync(GatedPromotionRequest request, CancellationToken ct)
    {
        var config = session.Config;
        var from = config.Environment(request.From);
        var to = config.Environment(request.To);
        var source = request.Source ?? session.Reference(from);
        var target = session.Reference(to);
        var candidate = request.Digest ?? source.Digest ?? (await session.Copier.Client(source.Registry)
            .HeadManifestAsync(source.Repository, source.Identifier, ct).ConfigureAwait(false))?.Digest
            ?? throw new PromotionException($"{source} does not exist: promote into {from.Name} first, or pass --digest=sha256:…");
        var rollback = request.Kind == "rollback";
        var branch = await PromotionFacts.BranchAsync(session, ct).ConfigureAwait(false);

        GateReport? report = null;
        GitOpsOutcome? review = null;
        IReadOnlyList<ApprovalRecord> approvals = [];
        if (to.Gates is { } gates)
        {
            var facts = new GateFacts(session, _clock);
            var inputs = await facts.CollectAsync(source, candidate, from, to, gates, rollback, ct).ConfigureAwait(false);
            var judged = request.OnlyGates ?? GateSettings.Names;
            var names = judged.SelectMany(GateSettings.ReportNames).ToHashSet(StringComparer.Ordinal);
            var needApprovals = gates.RequiresApprovals && judged.Contains("approvals");
            // Everything but the approvals first: a pull request is opened only for a promotion that could go ahead.
            var first = Judge(inputs with { Policy = inputs.Policy with { RequiredApprovals = 0 } }, names);
            ApprovalRequest? approvalRequest = null;
            string? approvalsNote = null;
            if (needApprovals)
            {
                if (to.GitOps?.GitHub is null)
                    throw new PromotionException($"{config.Source}: environments.{to.Name}.gates.approvals reads reviews of the promotion pull request, but environments.{to.Name}.gitops.github is not configured: add it");
                if (!first.AllPassed) approvalsNote = "not requested: the other gates failed, so no pull request was opened";
                else if (session.DryRun) approvalsNote = "dry run: would open the pull request and read its reviews";
                else
                {
                    review = await new GitOpsPromotion(session).RunAsync(to, Planned(source, target, candidate), from.Name, autoMergeOverride: false, ct).ConfigureAwait(false);
                    if (review?.PullRequestNumber is not { } number || review.PullRequestHeadSha is not { } head)
                        approvalsNote = "no pull request to review: the GitOps base already holds this digest";
                    else
                    {
                        var pulls = Pulls(to.GitOps!);
                        var reviews = await pulls.GetReviewsAsync(number, ct).ConfigureAwait(false);
                        approvalRequest = new ApprovalRequest(reviews.Select(ToReview).OfType<Review>().ToArray(), head,
                            session.Options.Identity, facts.PushRecord?.Who, session.Options.Identity);
                        approvals = Counted(approvalRequest, gates.Policy);
                    }
                }
            }
            report = approvalRequest is not null ? Judge(inputs with { Approvals = approvalRequest }, names)
                : approvalsNote is not null ? new GateReport(first.Results.Append(GateResult.Fail(ApprovalGate.GateName, approvalsNote)))
                : first;
            session.Log.Information($"gates for {request.From} -> {request.To} of {candidate}:\n{report.ToTable()}");
            if (!report.AllPassed && report.Results.Count > 0)
            {
                var refused = PromotionFacts.Record(session, request.Kind, from.Name, source.ToString(), to.Name, target.ToString(), candidate.ToString(), null, branch, "refused")
                    with { Gates = PromotionRecord.GatesOf(report), Approvals = approvals, PullRequestUrl = review?.PullRequestUrl };
                // A refusal writes nothing next to the target: the journal (and the step summary) say what happened.
                await new PromotionRecorder(session, _clock).RecordAsync(refused, null, ct).ConfigureAwait(false);
                return new GatedPromotionOutcome(candidate.ToString(), null, report, review, refused);
            }
        }
        else session.Log.Verbose($"no gates configured for {to.Name}");

        var promotions = new Promotions(session);
        var copy = rollback
            ? await promotions.PromoteAsync(to.Name, to.Name, candidate, ct).ConfigureAwait(false)
            : await promotions.PromoteAsync(from.Name, to.Name, candidate, ct).ConfigureAwait(false);
        var gitops = await new GitOpsPromotion(session).RunAsync(to, copy, from.Name, request.AutoMerge, ct).ConfigureAwait(false);
        var pinnedTarget = target.WithDigest(candidate);
        if (!session.DryRun)
            foreach (var approval in approvals)
                await new EvidenceStore(session.Transport, session.Log, _clock, session.Signers).PushAsync(pinnedTarget, new EvidencePiece(EvidenceTypes.ApprovalDecision,
                    JsonSerializer.SerializeToUtf8Bytes(new { digest = candidate.ToString(), environment = to.Name, login = approval.Login, commitId = approval.CommitId,
                        submittedAt = approval.SubmittedAt, pullRequest = gitops?.PullRequestUrl ?? review?.PullRequestUrl })), ct).ConfigureAwait(false);
        var record = PromotionFacts.Record(session, request.Kind, from.Name, source.ToString(), to.Name, target.ToString(), candidate.ToString(),
                copy.PreviousDigest, branch, copy.UpToDate ? "up-to-date" : "promoted")
            with { Gates = report is null ? [] : PromotionRecord.GatesOf(report), Approvals = approvals, PullRequestUrl = gitops?.PullRequestUrl ?? review?.PullRequestUrl };
        // An up-to-date re-run adds no record (history has one entry per change), unless the environment holds the
        // digest with no record of it at all (moved before records existed): then this run is the first to vouch for it.
        var recorder = new PromotionRecorder(session, _clock);
        if (!copy.UpToDate) await recorder.RecordAsync(record, pinnedTarget, ct).ConfigureAwait(false);
        else if (!session.DryRun && !(await recorder.ReadAsync(pinnedTarget, ct).ConfigureAwait(false)).Any(r => r.To == to.Name && r.Digest == record.Digest))
            await recorder.RecordAsync(record, pinnedTarget, ct).ConfigureAwait(false);
        return new GatedPromotionOutcome(candidate.ToString(), copy, report, gitops, record);
    }

    private GateReport Judge(PromotionGateInputs inputs, IReadOnlySet<string> names)
    {
        var all = PromotionGates.Evaluate(inputs, _clock);
        return new GateReport(all.Results.Where(r => names.Contains(r.Gate)));
    }

    private GitHubPullRequests Pulls(GitOpsSettings gitops)
    {
        var github = gitops.GitHub!;
        var env = session.Options.Environment ?? Registry.Auth.CredentialStore.ReadProcessEnvironment();
        var token = env.GetValueOrDefault(github.TokenEnv) is { Length: > 0 } t ? t
            : throw new PromotionException($"{github.TokenEnv} is not set: the approvals gate reads the pull request's reviews; export a token with pull-request read access");
        return new GitHubPullRequests(new GitHubRepositoryOptions(github.Owner, github.Repository, token,
            github.BaseUrl == "https://api.github.com" ? null : github.BaseUrl), session.Log);
    }

    /// <summary>What the GitOps step needs to know before the registry copy: the digest and where it will be.</summary>
    private static CopyResult Planned(ImageReference source, ImageReference target, Digest digest) => new()
    {
        Source = source.ToString(), Destination = target.ToString(), SourceDigest = digest.ToString(), MediaType = "", DryRun = false,
    };

    private static Review? ToReview(PullRequestReview r)
    {
        ReviewState? state = r.State switch
        {
            "APPROVED" => ReviewState.Approved,
            "CHANGES_REQUESTED" => ReviewState.ChangesRequested,
            "COMMENTED" => ReviewState.Commented,
            "DISMISSED" => ReviewState.Dismissed,
            _ => null, // PENDING: not submitted
        };
        return state is null ? null : new Review(r.Login, state.Value, r.CommitId ?? "", r.SubmittedAt ?? DateTimeOffset.MinValue);
    }

    /// <summary>The latest verdict of each reviewer, when it approves the head commit (the gate's reason names who was excluded and why).</summary>
    private static IReadOnlyList<ApprovalRecord> Counted(ApprovalRequest request, PromotionPolicy policy) =>
        request.Reviews.Where(r => r.State != ReviewState.Commented)
            .GroupBy(r => r.Login, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.OrderBy(r => r.SubmittedAt).Last())
            .Where(r => r.State == ReviewState.Approved && string.Equals(r.CommitId, request.HeadCommit, StringComparison.OrdinalIgnoreCase))
            .Where(r => policy.Approvers.Count == 0 || policy.Approvers.Contains(r.Login, StringComparer.OrdinalIgnoreCase))
            .Where(r => policy.AllowRequestFromApprove || !string.Equals(r.Login, request.Requester, StringComparison.OrdinalIgnoreCase))
            .Where(r => policy.AllowImageBuilderFromApprove || !string.Equals(r.Login, request.Builder, StringComparison.OrdinalIgnoreCase))
            .Select(r => new ApprovalRecord(r.Login, r.CommitId, r.SubmittedAt)).ToArray();
}
