using ImagePromotion.Registry;

using ImagePromotion.Processes;

namespace ImagePromotion.Pipeline;

/// <summary>Facts about the run that records and gates share: the branch and the record skeleton.</summary>
public static class PromotionFacts
{
    /// <summary>The branch being built: the CI's variables first, else the checkout's current branch; null when detached.</summary>
    public static async Task<string?> BranchAsync(PromotionSession session, CancellationToken ct)
    {
        var env = session.Options.Environment ?? Registry.Auth.CredentialStore.ReadProcessEnvironment();
        foreach (var name in new[] { "PROMOTION_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CODEBUILD_WEBHOOK_HEAD_REF" })
            if (env.GetValueOrDefault(name) is { Length: > 0 } value)
                return value.StartsWith("refs/heads/", StringComparison.Ordinal) ? value["refs/heads/".Length..] : value;
        if (session.Options.Environment is not null) return null; // a given environment is the whole truth (tests)
        var r = await ProcessRunner.RunAsync("git", ["rev-parse", "--abbrev-ref", "HEAD"], session.Config.BaseDirectory, ct: ct).ConfigureAwait(false);
        var branch = r.ExitCode == 0 ? r.Output.Trim() : null;
        return branch is null or "HEAD" or "" ? null : branch;
    }

    public static PromotionRecord Record(PromotionSession session, string kind, string? from, string? fromReference, string to, string toReference,
        string digest, string? previous, string? branch, string outcome = "promoted") => new()
    {
        Kind = kind, Outcome = outcome, Service = session.Config.Service, Digest = digest, From = from, FromReference = fromReference,
        To = to, ToReference = toReference, Who = session.Options.Identity, When = DateTimeOffset.UtcNow,
        Commit = session.Options.Commit, Branch = branch, RunUrl = session.Options.RunUrl, PreviousDigest = previous,
    };
}
