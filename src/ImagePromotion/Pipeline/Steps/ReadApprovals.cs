using ImagePromotion.Configuration;
using ImagePromotion.Gates;
using ImagePromotion.GitOps.PullRequests;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>Kargo's git-wait-for-pr in one look: the reviews of the promotion pull request, as the approvals gate reads them.</summary>
public sealed class ReadApprovals(PromotionSession session)
{
    /// <summary>The reviews of pull request <paramref name="number"/> bound to its head commit <paramref name="head"/>.</summary>
    public async Task<ApprovalRequest> RunAsync(EnvironmentSettings environment, int number, string head, CancellationToken ct)
    {
        var pulls = session.PullRequests(environment.GitOps!.GitHub!, "the approvals gate reads the pull request's reviews");
        var reviews = await pulls.GetReviewsAsync(number, ct).ConfigureAwait(false);
        return new ApprovalRequest(reviews.Select(ToReview).OfType<Review>().ToArray(), head, session.Options.Identity, null, session.Options.Identity);
    }

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
}
