using System.Text;
using ImagePromotion.Configuration;
using ImagePromotion.GitOps.Git;
using ImagePromotion.GitOps.Manifests;
using ImagePromotion.GitOps.PullRequests;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline.Planning;
using ImagePromotion.Registry;

namespace ImagePromotion.Pipeline.Steps;

/// <summary>One image as the GitOps step writes it: the image's settings, its target reference and digest.</summary>
public sealed record GitOpsImage(ImageSettings Image, ImageReference Target, Digest Digest, string Source);

/// <summary>What the GitOps step did: the branch and commit, and the pull request when one was opened.</summary>
public sealed record GitOpsOutcome(string Branch, string? Commit, bool Changed, IReadOnlyList<string> Files, string? Diff)
{
    /// <summary>The pull request's web address.</summary>
    public string? PullRequestUrl { get; init; }
    /// <summary>The pull request's number.</summary>
    public int? PullRequestNumber { get; init; }
    /// <summary>The pull request's head commit as GitHub sees it: approvals count only when bound to it.</summary>
    public string? PullRequestHeadSha { get; init; }
    /// <summary>Whether the pull request was merged; null when no merge was asked for.</summary>
    public bool? Merged { get; init; }
    /// <summary>Why GitHub did not merge, when it did not.</summary>
    public string? MergeReason { get; init; }
}

/// <summary>
/// Kargo's git-clone, yaml-update, git-commit, git-push, git-open-pr and git-merge-pr steps for one release:
/// every image of the application in one commit on one deterministic branch, and one pull request. Planning
/// runs the same edit on a clone without committing, and looks at the promotion branch the way the real run
/// will, so the plan says what the run does (commit, nothing to push, or nothing at all).
/// </summary>
public sealed class UpdateGitOps(PromotionSession session)
{
    /// <summary>The plan: the diff against the base branch and what the run will do with it.</summary>
    public async Task<GitOpsPlan> PlanAsync(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images,
        bool? autoMerge, CancellationToken ct)
    {
        var settings = environment.GitOps!;
        var description = Describe(application, environment, images, null);
        var request = Request(application, environment, images, description, GitPublishMode.DryRun);
        // Planning clones and edits like the run, quietly: its messages would read as if something had been done.
        var quiet = new QuietLog(session.Log);
        var edits = Edits(application, settings, images);
        var published = await new GitPublisher(quiet).PublishAsync(request, edits, ct).ConfigureAwait(false);
        // Direct mode: what the base pins now is the expected value of the run's compare-and-swap (see PlanExecutor).
        var basePins = settings.Mode == "direct" ? await new GitPublisher(quiet).ReadPinnedAsync(request.Repository, edits, ct).ConfigureAwait(false) : null;
        var files = ParseDiff(published.Diff ?? "");
        GitOpsAction action;
        if (files.Count == 0) action = GitOpsAction.None;
        else if (settings.Mode == "direct") action = GitOpsAction.CommitToBase;
        else action = await BranchHoldsAsync(request, application, settings, images, ct).ConfigureAwait(false) ? GitOpsAction.BranchUpToDate : GitOpsAction.CommitToBranch;
        return new GitOpsPlan
        {
            Repository = GitRemoteUrl.Describe(request.Repository.RemoteUrl), BaseBranch = settings.BaseBranch,
            Branch = settings.Mode == "direct" ? settings.BaseBranch : request.Change.Branch, Action = action, Files = files,
            Title = description.Title,
            PullRequestRepository = settings.GitHub is { } gh && settings.Mode != "direct" ? $"{gh.Owner}/{gh.Repository}" : null,
            AutoMerge = autoMerge ?? settings.GitHub?.AutoMerge ?? false,
            BasePins = basePins,
        };
    }

    /// <summary>A plan whose digests are produced earlier in the same run: the files are known, the diff is not yet.</summary>
    public static GitOpsPlan PlanAfterBuild(ApplicationSettings application, EnvironmentSettings environment, IEnumerable<ImageSettings> images, bool? autoMerge)
    {
        var settings = environment.GitOps!;
        return new GitOpsPlan
        {
            Repository = GitRemoteUrl.Describe(settings.Repository), BaseBranch = settings.BaseBranch,
            Branch = settings.Mode == "direct" ? settings.BaseBranch : $"{PromotionBranch.Prefix}/{environment.Name}/{application.Name}-<digest>",
            Action = GitOpsAction.AfterBuild,
            Files = images.SelectMany(i => settings.Manifests.Select(m => Templates.Expand(m, null, application.Name, i.Name))).Distinct().Select(p => new GitOpsFilePlan(p, "")).ToArray(),
            Title = $"Promote {application.Name} to {environment.Name}",
            PullRequestRepository = settings.GitHub is { } gh && settings.Mode != "direct" ? $"{gh.Owner}/{gh.Repository}" : null,
            AutoMerge = autoMerge ?? settings.GitHub?.AutoMerge ?? false,
        };
    }

    /// <summary>
    /// Commits and pushes the change (the promotion branch, or the base in direct mode) and opens or updates the pull
    /// request. <paramref name="merge"/> false leaves the pull request open (approvals are read from it first).
    /// </summary>
    /// <param name="application">The application released.</param>
    /// <param name="environment">The target environment (its <c>gitops:</c> section).</param>
    /// <param name="images">Every image of the release with its digest.</param>
    /// <param name="sourceEnvironment">Where the release comes from, for the commit message.</param>
    /// <param name="merge">False leaves the pull request open.</param>
    /// <param name="autoMerge">The <c>--auto-merge</c> override; null: the configuration's.</param>
    /// <param name="ct">Cancels the git and GitHub calls.</param>
    /// <param name="expected">Direct mode: what the base pinned when the promotion was decided (<see cref="ReadBaseAsync"/>);
    /// the push is a compare-and-swap on it. Null: a moved base is simply re-fetched and the edit re-applied.</param>
    /// <exception cref="GitOpsSupersededException">the base pins another image than <paramref name="expected"/>: nothing pushed.</exception>
    public async Task<GitOpsOutcome> PublishAsync(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images,
        string? sourceEnvironment, bool merge, bool? autoMerge, CancellationToken ct, GitOpsPins? expected = null)
    {
        var settings = environment.GitOps!;
        var description = Describe(application, environment, images, sourceEnvironment);
        var request = Request(application, environment, images, description, settings.Mode == "direct" ? GitPublishMode.DirectPush : GitPublishMode.PullRequestBranch)
            with
        { ExpectedPins = expected };
        // One commit for every image and manifest; a rejected push is re-applied on the new remote head, and the
        // pushed branch is read back: it must pin every image, or the publish fails naming what it pins.
        var published = await new GitPublisher(session.Log).PublishAsync(request, Edits(application, settings, images), ct).ConfigureAwait(false);
        var outcome = new GitOpsOutcome(published.Branch, published.CommitSha, published.Pushed, published.ChangedFiles, published.Diff);
        var summary = string.Join(", ", images.Select(i => i.Image.Name));
        session.Log.Information(published.Pushed
            ? $"GitOps: committed {published.CommitSha?[..Math.Min(12, published.CommitSha.Length)]} on {published.Branch} ({string.Join(", ", published.ChangedFiles)})"
            : published.OnBaseBranch ? $"GitOps: {settings.BaseBranch} already holds {summary}; no branch, no pull request"
            : $"GitOps: {published.Branch} already holds {summary}; nothing pushed");
        if (settings.GitHub is not { } github || settings.Mode == "direct" || published.OnBaseBranch) return outcome;

        var pulls = session.PullRequests(github, $"GitOps for {environment.Name} opens pull requests");
        var pr = await pulls.OpenOrUpdateAsync(new PullRequestSpec(published.Branch, settings.BaseBranch, description.Title, description.Body)
        {
            Labels = github.Labels, Reviewers = github.Reviewers, Assignees = github.Assignees,
            AutoMerge = merge && (autoMerge ?? github.AutoMerge) ? Enum.Parse<MergeMethod>(github.MergeMethod, ignoreCase: true) : null,
            ExpectedHeadSha = published.CommitSha,
        }, ct).ConfigureAwait(false);
        foreach (var warning in pr.Warnings) session.Log.Warning(warning);
        session.Log.Information($"pull request {(pr.Created ? "opened" : "updated")}: {pr.HtmlUrl}");
        if (pr.Merge is { } m)
            session.Log.Information(m.Merged ? $"pull request #{pr.Number} merged ({m.Sha})" : $"pull request #{pr.Number} not merged: {m.Reason}");
        return outcome with { PullRequestUrl = pr.HtmlUrl, PullRequestNumber = pr.Number, PullRequestHeadSha = pr.HeadSha, Merged = pr.Merge?.Merged, MergeReason = pr.Merge?.Reason };
    }

    /// <summary>What the base branch pins now (fetched fresh) at each place the release writes, in the order of its edits.</summary>
    public Task<GitOpsPins> ReadBaseAsync(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images, CancellationToken ct)
    {
        var request = Request(application, environment, images, Describe(application, environment, images, null), GitPublishMode.DirectPush);
        return new GitPublisher(new QuietLog(session.Log)).ReadPinnedAsync(request.Repository, Edits(application, environment.GitOps!, images), ct);
    }

    /// <summary>
    /// The digest <paramref name="pins"/> give <paramref name="image"/>: the one digest every place written for it pins,
    /// or null when a place pins no digest (pinDigest: false), several images, or places disagree.
    /// </summary>
    public static Digest? PinnedDigest(GitOpsPins pins, GitOpsSettings settings, GitOpsImage image)
    {
        var value = Value(settings, image);
        var digests = pins.Pins.Where(p => p.Edit.Image == value)
            .Select(p => p.Images.Count == 1 && ImageReference.TryParse(p.Images[0], out var r) ? r!.Digest : null).ToArray();
        return digests.Length > 0 && digests.All(d => d is not null && d == digests[0]) ? digests[0] : null;
    }

    /// <summary>
    /// The compensation of a direct push whose tag moves failed: every place back to what <paramref name="before"/> says it
    /// pinned, as a compare-and-swap on the base still pinning this release (a promotion that landed since is left alone).
    /// </summary>
    /// <returns>What was done, as a clause for the run's error message.</returns>
    public async Task<string> RevertAsync(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images,
        GitOpsPins before, CancellationToken ct)
    {
        var settings = environment.GitOps!;
        if (before.Pins.FirstOrDefault(p => p.Images.Count != 1) is { } unclear)
            return $"{settings.BaseBranch} still pins this release: {unclear.Edit.Manifest} pinned {(unclear.Images.Count == 0 ? "nothing" : string.Join(", ", unclear.Images))} before, which cannot be written back as one image; put it back by hand";
        var now = await ReadBaseAsync(application, environment, images, ct).ConfigureAwait(false);
        if (!now.Pins.All(p => p.HoldsEdit))
            return $"{settings.BaseBranch} no longer pins this release ({now.Describe()}): left as it is";
        var edits = before.Pins.Select(p => p.Edit with { Image = p.Images[0] }).ToArray();
        var description = Describe(application, environment, images, null);
        var (name, email) = Author(session.Options.Identity);
        var request = Request(application, environment, images, description, GitPublishMode.DirectPush) with
        {
            ExpectedPins = now,
            Change = new GitOpsChange(settings.BaseBranch,
                $"Revert \"{description.Title}\"\n\nThe registry tags could not be moved, so {settings.BaseBranch} goes back to what it pinned before ({before.Describe()}).", name, email),
        };
        var published = await new GitPublisher(session.Log).PublishAsync(request, edits, ct).ConfigureAwait(false);
        return $"{settings.BaseBranch} of {GitRemoteUrl.Describe(request.Repository.RemoteUrl)} put back to {before.Describe()} (commit {GitPublisher.Short(published.CommitSha)})";
    }

    /// <summary>Kargo's git-merge-pr: merges a pull request opened earlier in this run (after its approvals were counted).</summary>
    public async Task<GitOpsOutcome> MergeAsync(EnvironmentSettings environment, GitOpsOutcome opened, string title, CancellationToken ct)
    {
        var github = environment.GitOps!.GitHub!;
        var pulls = session.PullRequests(github, $"GitOps for {environment.Name} merges pull requests");
        var merge = await pulls.MergeAsync(opened.PullRequestNumber!.Value, Enum.Parse<MergeMethod>(github.MergeMethod, ignoreCase: true),
            opened.PullRequestHeadSha, title, ct).ConfigureAwait(false);
        session.Log.Information(merge.Merged ? $"pull request #{merge.Number} merged ({merge.Sha})" : $"pull request #{merge.Number} not merged: {merge.Reason}");
        return opened with { Merged = merge.Merged, MergeReason = merge.Reason };
    }

    /// <summary>The deterministic branch of a release: the image's digest for one image, a digest over every image's for several.</summary>
    public static string BranchFor(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images) =>
        PromotionBranch.For(environment.Name, application.Name, images.Count == 1 ? images[0].Digest
            : Digest.Sha256(Encoding.UTF8.GetBytes(string.Join("\n", images.OrderBy(i => i.Image.Name, StringComparer.Ordinal).Select(i => $"{i.Image.Name}@{i.Digest}")))));

    private GitPublishRequest Request(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images,
        ReleaseDescription description, GitPublishMode mode)
    {
        var settings = environment.GitOps!;
        var token = settings.GitHub is { } gh ? session.Variable(gh.TokenEnv) : session.Variable("GITOPS_TOKEN");
        var remote = IsUrl(settings.Repository) ? settings.Repository : session.Config.ResolvePath(settings.Repository);
        var (authorName, authorEmail) = Author(session.Options.Identity);
        return new GitPublishRequest(
            // A token is an HTTP header: a local path or SSH remote authenticates otherwise, so it is not passed.
            new GitRepositoryOptions(remote, settings.BaseBranch, Path.Combine(session.ArtifactsDirectory, "gitops", application.Name, environment.Name))
            { Token = IsHttp(remote) ? token : null },
            new GitOpsChange(BranchFor(application, environment, images), description.CommitMessage, authorName, authorEmail))
        { Mode = mode };
    }

    /// <summary>The yaml-update step as data: one edit per image and manifest, so the publisher can verify the pushed branch pins each.</summary>
    private static IReadOnlyList<ManifestImageEdit> Edits(ApplicationSettings application, GitOpsSettings settings, IReadOnlyList<GitOpsImage> images) =>
        images.SelectMany(image =>
        {
            string Expand(string t) => Templates.Expand(t, null, application.Name, image.Image.Name);
            var target = Target(settings, Expand);
            return settings.Manifests.Select(Expand).Distinct().Select(manifest => new ManifestImageEdit(manifest, target, Value(settings, image)));
        }).ToList();

    /// <summary>The image value written: <c>registry/repository:tag@sha256:…</c>, or without the digest (pinDigest: false).</summary>
    private static string Value(GitOpsSettings settings, GitOpsImage image) =>
        settings.PinDigest ? image.Target.WithTagAndDigest(image.Target.Tag, image.Digest).ToString() : image.Target.ToString();

    /// <summary>Where in a manifest the image goes: Helm values keys, an explicit path, or the container (by name, or chosen by repository).</summary>
    private static ManifestTarget Target(GitOpsSettings settings, Func<string, string> expand)
    {
        string? Expand(string? key) => key is null ? null : expand(key);
        if (settings.Helm is { } helm)
            return helm with
            {
                Image = expand(helm.Image),
                RegistryKey = Expand(helm.RegistryKey),
                RepositoryKey = Expand(helm.RepositoryKey),
                TagKey = Expand(helm.TagKey),
                DigestKey = Expand(helm.DigestKey),
            };
        return settings.Path is { } path ? new YamlPathTarget(expand(path)) : new ContainerImageTarget(settings.Container is { } c ? expand(c) : null);
    }

    /// <summary>The yaml-update step run on a work tree: every image of the release into its manifests; idempotent.</summary>
    private Func<string, CancellationToken, Task<IReadOnlyList<string>>> Edit(ApplicationSettings application, GitOpsSettings settings,
        IReadOnlyList<GitOpsImage> images, IPipelineLog? log = null) =>
        async (workTree, ct) =>
        {
            var updater = new ManifestUpdater(workTree, log: log ?? session.Log);
            var changed = new List<string>();
            foreach (var image in images)
            {
                string Expand(string t) => Templates.Expand(t, null, application.Name, image.Image.Name);
                var value = Value(settings, image);
                var target = Target(settings, Expand);
                foreach (var manifest in settings.Manifests.Select(Expand).Distinct())
                {
                    var result = await updater.UpdateFileAsync(manifest, target, value, ct).ConfigureAwait(false);
                    if (result.Changed) changed.Add(manifest);
                    else (log ?? session.Log).Information($"{manifest}: already holds {value}; left untouched");
                }
            }
            return changed.Distinct().ToArray();
        };

    /// <summary>True when the remote promotion branch exists and already holds the change (the real run then pushes nothing).</summary>
    private async Task<bool> BranchHoldsAsync(GitPublishRequest request, ApplicationSettings application, GitOpsSettings settings,
        IReadOnlyList<GitOpsImage> images, CancellationToken ct)
    {
        var quiet = new QuietLog(session.Log);
        var repository = new GitOpsRepository(request.Repository, quiet);
        if (await repository.RemoteBranchHeadAsync(request.Change.Branch, ct).ConfigureAwait(false) is null) return false;
        await repository.FetchAsync(request.Change.Branch, ct).ConfigureAwait(false);
        await repository.CheckoutAsync(request.Change.Branch, GitOpsRepository.RemoteRef(request.Change.Branch), ct).ConfigureAwait(false);
        await Edit(application, settings, images, quiet)(repository.WorkTree, ct).ConfigureAwait(false);
        var status = await repository.Git.RunAsync(repository.WorkTree, ["status", "--porcelain"], ct).ConfigureAwait(false);
        return status.StandardOutput.Trim().Length == 0;
    }

    /// <summary>Splits <c>git diff</c> output into one entry per file.</summary>
    private static IReadOnlyList<GitOpsFilePlan> ParseDiff(string diff)
    {
        var files = new List<GitOpsFilePlan>();
        foreach (var part in diff.Split("diff --git ", StringSplitOptions.RemoveEmptyEntries))
        {
            var newline = part.IndexOf('\n');
            var header = newline >= 0 ? part[..newline] : part;
            var path = header.Split(' ').LastOrDefault()?.Trim() ?? "";
            if (path.StartsWith("b/", StringComparison.Ordinal)) path = path[2..];
            files.Add(new GitOpsFilePlan(path, "diff --git " + part.TrimEnd('\n') + "\n"));
        }
        return files;
    }

    private ReleaseDescription Describe(ApplicationSettings application, EnvironmentSettings environment, IReadOnlyList<GitOpsImage> images, string? from) =>
        new(application.Name, environment.Name, from, images.Select(i => (i.Image.Name, i.Source, i.Target.WithTagAndDigest(i.Target.Tag, i.Digest).ToString(), i.Digest)).ToArray(),
            images.SelectMany(i => environment.GitOps!.Manifests.Select(m => Templates.Expand(m, null, application.Name, i.Image.Name))).Distinct().ToArray())
        {
            TriggeredBy = session.Options.Identity, RunUrl = session.Options.RunUrl,
        };

    private static bool IsHttp(string remote) =>
        remote.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || remote.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    private static bool IsUrl(string repository) =>
        repository.Contains("://", StringComparison.Ordinal) || repository.StartsWith("git@", StringComparison.Ordinal);

    /// <summary>"Name &lt;email&gt;", an email, or a CI login: the commit's author is whoever triggered the run.</summary>
    internal static (string Name, string Email) Author(string identity)
    {
        var lt = identity.IndexOf('<');
        var gt = identity.IndexOf('>');
        if (lt > 0 && gt > lt) return (identity[..lt].Trim(), identity[(lt + 1)..gt].Trim());
        if (identity.Contains('@')) return (identity.Split('@')[0], identity);
        var login = string.IsNullOrWhiteSpace(identity) ? "image-promotion" : identity.Trim();
        return (login, $"{login}@users.noreply.github.com");
    }
}

/// <summary>
/// A release in words a reviewer can approve: which application, into which environment, each image's exact
/// digest and source, which manifests change, which run did it. One source for the commit message, the pull
/// request's title and its body. For one image it reads exactly as single-image promotions always did.
/// </summary>
public sealed record ReleaseDescription(string Application, string Environment, string? SourceEnvironment,
    IReadOnlyList<(string Name, string Source, string Target, Digest Digest)> Images, IReadOnlyList<string> ManifestPaths)
{
    /// <summary>A link to the CI run.</summary>
    public string? RunUrl { get; init; }
    /// <summary>Who triggered it.</summary>
    public string? TriggeredBy { get; init; }

    /// <summary>The first line: one image's short digest, or each image's.</summary>
    public string Title => Images.Count == 1
        ? $"Promote {Application} to {Environment} ({Short(Images[0].Digest)})"
        : $"Promote {Application} to {Environment} ({string.Join(", ", Images.Select(i => $"{i.Name} {Short(i.Digest)}"))})";

    /// <summary>The commit message: title, then one line per fact.</summary>
    public string CommitMessage
    {
        get
        {
            var text = new StringBuilder(Title).Append("\n\n");
            text.Append("Service: ").Append(Application).Append('\n');
            text.Append("Environment: ").Append(SourceEnvironment == null ? Environment : SourceEnvironment + " -> " + Environment).Append('\n');
            foreach (var image in Images)
            {
                var prefix = Images.Count == 1 ? "" : image.Name + " ";
                text.Append(prefix).Append("Source image: ").Append(image.Source).Append('\n');
                text.Append(prefix).Append("Target image: ").Append(image.Target).Append('\n');
            }
            foreach (var path in ManifestPaths) text.Append("Manifest: ").Append(path).Append('\n');
            if (RunUrl != null) text.Append("Run: ").Append(RunUrl).Append('\n');
            if (TriggeredBy != null) text.Append("Triggered-by: ").Append(TriggeredBy).Append('\n');
            return text.ToString().TrimEnd('\n');
        }
    }

    /// <summary>The pull request's Markdown body: a summary, one row per image, the files.</summary>
    public string Body
    {
        get
        {
            // Every value is escaped (Ci.MarkdownText): reviewers approve what this body says, so no value may render as a link or markup.
            var body = new StringBuilder();
            body.Append("## Promote ").Append(Code(Application)).Append(" to **").Append(Text(Environment)).Append("**\n\n");
            body.Append("This pull request updates the GitOps manifests so that **").Append(Text(Environment))
                .Append("** runs the exact image digests already running in **").Append(Text(SourceEnvironment ?? "the previous environment")).Append("**, as one release.\n\n");
            body.Append("| image | source | target | digest |\n|---|---|---|---|\n");
            foreach (var image in Images)
                body.Append("| ").Append(Code(image.Name)).Append(" | ").Append(Code(image.Source)).Append(" | ").Append(Code(image.Target)).Append(" | ").Append(Code(image.Digest.ToString())).Append(" |\n");
            if (TriggeredBy != null) body.Append("\nTriggered by @").Append(Text(TriggeredBy.TrimStart('@'))).Append('\n');
            if (RunUrl != null) body.Append("\nPipeline run: ").Append(Ci.MarkdownText.Link(RunUrl)).Append('\n');
            body.Append("\n### Manifests changed\n\n");
            foreach (var path in ManifestPaths) body.Append("- ").Append(Code(path)).Append('\n');
            body.Append("\n_Opened by image-promotion. Merging this pull request deploys the digests above; no image is rebuilt._\n");
            return body.ToString();
        }
    }

    private static string Short(Digest d) => $"{d.Algorithm}:{(d.Encoded.Length > 12 ? d.Encoded[..12] : d.Encoded)}";
    private static string Code(string text) => Ci.MarkdownText.Code(text);
    private static string Text(string text) => Ci.MarkdownText.Escape(text);
}

/// <summary>A log that keeps a planning step's messages at diagnostic verbosity: they describe a rehearsal, not a change.</summary>
internal sealed class QuietLog(IPipelineLog inner) : IPipelineLog
{
    /// <inheritdoc />
    public void Information(string message) => inner.Verbose(message);
    /// <inheritdoc />
    public void Verbose(string message) => inner.Verbose(message);
    /// <inheritdoc />
    public void Warning(string message) => inner.Warning(message);
}
