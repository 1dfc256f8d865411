using System.Text.Json;
using ImagePromotion.Evidence;
using ImagePromotion.Gates;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>
/// The last steps of a release: its evidence travels with each digest into the target repository, each counted
/// approval is attached, and one record listing every image and digest goes to the journal and onto each image.
/// </summary>
public sealed class RecordRelease(PromotionSession session, TimeProvider clock)
{
    /// <summary>The record of <paramref name="release"/> with <paramref name="outcome"/> (promoted, up-to-date or refused).</summary>
    public async Task<PromotionRecord> RecordOfAsync(ReleasePlan release, string outcome, IReadOnlyList<GateResult> gates,
        IReadOnlyList<ApprovalRecord> approvals, string? pullRequestUrl, IReadOnlyDictionary<string, string?>? previous, CancellationToken ct)
    {
        var first = release.Images[0];
        var images = release.Images.Select(i => new ImageRecord(i.Image, i.Destination, i.Digest.ToString(),
            previous is null ? i.Tag.Old?.ToString() : previous.GetValueOrDefault(i.Image), i.Source)).ToArray();
        return new PromotionRecord
        {
            Kind = release.Kind, Outcome = outcome, Service = release.Application, Digest = first.Digest.ToString(),
            From = release.From, FromReference = first.Source, To = release.To, ToReference = first.Destination,
            Who = session.Options.Identity, When = clock.GetUtcNow(), Commit = session.Options.Commit,
            Branch = await session.BranchAsync(ct).ConfigureAwait(false), RunUrl = session.Options.RunUrl,
            PreviousDigest = images[0].PreviousDigest, Gates = PromotionRecord.GatesOf(new GateReport(gates)),
            Approvals = approvals, PullRequestUrl = pullRequestUrl, Images = images,
        };
    }

    /// <summary>
    /// Build provenance (SLSA v1, signed with the build key): the commit and builder bound to each pushed digest. An
    /// image already there gets it only when it has none (its content holds no clock time: the same facts give the same piece).
    /// </summary>
    public async Task AttachProvenanceAsync(ReleasePlan push, CancellationToken ct)
    {
        var store = new EvidenceStore(session.Transport, session.Log, null, session.Signers);
        var kind = Evidence.Attestations.EvidenceKind.BuildProvenance;
        var env = session.Options.Environment ?? Registry.Auth.CredentialStore.ReadProcessEnvironment();
        var application = session.Config.Application(push.Application);
        foreach (var image in push.Images)
        {
            var pinned = ImageReference.Parse(image.Destination).WithDigest(image.Digest.Value!.Value);
            if (image.UpToDate && (await store.ListAsync(pinned, kind, ct).ConfigureAwait(false)).Count > 0) continue;
            var build = application.Image(image.Image).Build;
            var facts = new Evidence.Attestations.BuildFacts
            {
                BuilderId = Evidence.Attestations.BuildProvenance.BuilderIdFromEnvironment(env, session.Options.Identity),
                Commit = session.Options.Commit ?? session.CommitTag,
                SourceRepository = Evidence.Attestations.BuildProvenance.SourceRepositoryFromEnvironment(env),
                Ref = await session.BranchAsync(ct).ConfigureAwait(false),
                Context = build.Context, Containerfile = build.Containerfile, Tool = build.Builder,
                InvocationId = session.Options.RunUrl,
            };
            await store.AttachAsync(pinned, kind, Evidence.Attestations.BuildProvenance.Predicate(facts), null, null, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Copies each image's evidence along (across repositories), attaches the approvals, and writes the record.</summary>
    /// <param name="always">Write the record even when the release changed nothing (otherwise only when no record of it exists yet).</param>
    /// <param name="release">The executed release: applications, images and their digests.</param>
    /// <param name="record">The record of this run.</param>
    /// <param name="approvals">The approvals counted by the approvals gate, attached as signed decisions.</param>
    /// <param name="ct">Cancels the registry writes.</param>
    public async Task RunAsync(ReleasePlan release, PromotionRecord record, IReadOnlyList<ApprovalRecord> approvals, bool always, CancellationToken ct)
    {
        var store = new EvidenceStore(session.Transport, session.Log, clock, session.Signers);
        var pinned = new List<ImageReference>();
        foreach (var image in release.Images)
        {
            var digest = image.Digest.Value!.Value;
            var target = ImageReference.Parse(image.Destination);
            pinned.Add(target.WithDigest(digest));
            // Evidence travels with the digest: scans, approvals and records follow the image into the target repository.
            if (!image.SameRepository && !LayoutReference.TryParse(image.Source, out _, out _))
                await store.CopyAsync(ImageReference.Parse(image.Source).WithDigest(digest), target, ct).ConfigureAwait(false);
            foreach (var approval in approvals)
                await store.PushAsync(target.WithDigest(digest), new EvidencePiece(EvidenceTypes.ApprovalDecision,
                    JsonSerializer.SerializeToUtf8Bytes(new
                    {
                        digest = digest.ToString(), environment = release.To, image = image.Image, login = approval.Login,
                        commitId = approval.CommitId, submittedAt = approval.SubmittedAt, pullRequest = record.PullRequestUrl
                    })), ct).ConfigureAwait(false);
        }
        var recorder = new PromotionRecorder(session, clock);
        // An up-to-date re-run adds no record (history has one entry per change), unless the environment holds the
        // digest with no record of it at all (moved before records existed): then this run is the first to vouch for it.
        // Only a record this job could have written counts as "already there": one signed by its promotion key (or, without
        // that key, any unsigned one): a forged record must not stop the real one from being written.
        var own = session.Signers.For(Evidence.Attestations.KeyRole.Promotion) is { } signer ? TrustedKeys.ForEveryKind([signer.PublicKey]) : null;
        if (!always && (await recorder.ReadAsync(pinned[0], own, ct).ConfigureAwait(false)).Any(r => r.To == release.To && r.DigestOf(release.Images[0].Image) == record.Digest))
            return;
        await recorder.RecordAsync(record, pinned, ct).ConfigureAwait(false);
    }
}
