using ImagePromotion.Logging;

namespace ImagePromotion.GitOps.Git;

/// <summary>
/// A shallow, single-branch clone of the GitOps repository. Promotions only ever need the tip of the base
/// branch (and of their own promotion branch), so history stays on the server and a clone costs one round trip.
/// </summary>
public sealed class GitOpsRepository
{
    private readonly GitRepositoryOptions _options;
    private readonly IPipelineLog _log;

    /// <summary>Checks the options and prepares the git runner; nothing is cloned until asked.</summary>
    /// <exception cref="PromotionException">The remote URL, base branch or work directory is empty, or the URL carries credentials.</exception>
    public GitOpsRepository(GitRepositoryOptions options, IPipelineLog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.RemoteUrl))
            throw new PromotionException("The GitOps remote URL is empty; set it to the repository Argo CD or Flux watches (https://..., ssh or file://).");
        if (string.IsNullOrWhiteSpace(options.BaseBranch))
            throw new PromotionException($"The base branch for '{GitRemoteUrl.Describe(options.RemoteUrl)}' is empty; set it to the branch your GitOps controller watches, e.g. main.");
        if (string.IsNullOrWhiteSpace(options.WorkDirectory))
            throw new PromotionException("The GitOps work directory is empty; set it to a folder this run may clone into.");
        GitRemoteUrl.EnsureNoCredentials(options.RemoteUrl);
        _options = options;
        _log = log;
        WorkTree = Path.GetFullPath(options.WorkDirectory);
        Git = new GitCli(GitCredentials.ForToken(options.RemoteUrl, options.Token, options.TokenUser), log, options.CommandTimeout);
    }

    /// <summary>Absolute path of the clone's work tree.</summary>
    public string WorkTree { get; }
    /// <summary>The branch the GitOps controller watches.</summary>
    public string BaseBranch => _options.BaseBranch;
    /// <summary>The remote URL for messages, with any user info left out.</summary>
    public string RemoteDescription => GitRemoteUrl.Describe(_options.RemoteUrl);
    internal GitCli Git { get; }

    /// <summary>
    /// Clones, or reuses the existing clone: fetch the base branch and hard-reset to it, discarding anything
    /// an earlier, interrupted run left behind. Returns the base branch's head commit.
    /// </summary>
    public async Task<string> SyncAsync(CancellationToken ct)
    {
        await EnsureValidBranchNameAsync(_options.BaseBranch, "base branch", ct).ConfigureAwait(false);
        if (Directory.Exists(Path.Combine(WorkTree, ".git")))
        {
            var origin = (await Git.TryRunAsync(WorkTree, ["config", "--get", "remote.origin.url"], ct).ConfigureAwait(false)).StandardOutput.Trim();
            if (!SameRemote(origin, _options.RemoteUrl))
                throw new PromotionException($"The work directory '{WorkTree}' is a clone of another remote ('{GitRemoteUrl.Describe(origin)}'); delete it or choose another work directory for '{RemoteDescription}'.");
            _log.Verbose($"Fetching {_options.BaseBranch} from {RemoteDescription} into {WorkTree}");
            await FetchAsync(_options.BaseBranch, ct).ConfigureAwait(false);
        }
        else
        {
            if (Directory.Exists(WorkTree) && Directory.EnumerateFileSystemEntries(WorkTree).Any())
                throw new PromotionException($"The work directory '{WorkTree}' exists, is not empty and is not a git clone; empty it or choose another work directory.");
            _log.Information($"Cloning {RemoteDescription} ({_options.BaseBranch}) into {WorkTree}");
            Directory.CreateDirectory(WorkTree);
            await Git.RunAsync(null,
                ["clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags", "--branch", _options.BaseBranch, "--", _options.RemoteUrl, WorkTree],
                ct, $"remote {RemoteDescription}, branch {_options.BaseBranch}").ConfigureAwait(false);
        }
        await CheckoutAsync(_options.BaseBranch, RemoteRef(_options.BaseBranch), ct).ConfigureAwait(false);
        return await HeadAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The remote's head of <paramref name="branch"/>, or null when the branch does not exist there.</summary>
    public async Task<string?> RemoteBranchHeadAsync(string branch, CancellationToken ct)
    {
        var output = await Git.RunAsync(WorkTree, ["ls-remote", "--heads", "origin", "refs/heads/" + branch], ct, $"remote {RemoteDescription}").ConfigureAwait(false);
        var line = output.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return line?.Split('\t')[0].Trim();
    }

    /// <summary>Shallow-fetches one branch (its last <paramref name="depth"/> commits) into refs/remotes/origin/&lt;branch&gt;.</summary>
    public Task FetchAsync(string branch, CancellationToken ct, int depth = 1) =>
        Git.RunAsync(WorkTree,
            ["fetch", "--quiet", "--depth", depth.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-tags", "origin", $"+refs/heads/{branch}:{RemoteRef(branch)}"],
            ct, $"remote {RemoteDescription}, branch {branch}");

    /// <summary>True when <paramref name="ancestor"/> is in the fetched history of <paramref name="commit"/>.</summary>
    internal async Task<bool> ContainsAsync(string commit, string ancestor, CancellationToken ct)
    {
        var check = await Git.TryRunAsync(WorkTree, ["merge-base", "--is-ancestor", ancestor, commit], ct).ConfigureAwait(false);
        if (check.ExitCode is 0 or 1) return check.ExitCode == 0;
        throw GitCli.Failure(["merge-base"], check, $"is {GitPublisher.Short(ancestor)} in {GitPublisher.Short(commit)}");
    }

    /// <summary>Points local <paramref name="branch"/> at <paramref name="startPoint"/> with a clean work tree.</summary>
    internal async Task CheckoutAsync(string branch, string startPoint, CancellationToken ct)
    {
        await Git.RunAsync(WorkTree, ["checkout", "--quiet", "--force", "-B", branch, startPoint], ct).ConfigureAwait(false);
        await Git.RunAsync(WorkTree, ["clean", "-ffdxq"], ct).ConfigureAwait(false);
    }

    internal async Task<string> HeadAsync(CancellationToken ct) =>
        (await Git.RunAsync(WorkTree, ["rev-parse", "HEAD"], ct).ConfigureAwait(false)).StandardOutput.Trim();

    /// <summary>Asks git itself, so the rules are exactly git's (no "..", no spaces, no trailing ".lock"...).</summary>
    internal async Task EnsureValidBranchNameAsync(string branch, string what, CancellationToken ct)
    {
        var check = await Git.TryRunAsync(null, ["check-ref-format", "refs/heads/" + branch], ct).ConfigureAwait(false);
        if (!check.Succeeded || branch.StartsWith('-'))
            throw new PromotionException($"The {what} '{branch}' is not a valid git branch name; use letters, digits, '/', '-', '_' and '.' (no spaces, '..', '~', '^', ':' or trailing '.lock').");
    }

    // git clone records a local path as an absolute one; URLs are kept verbatim.
    private static bool SameRemote(string recorded, string configured) =>
        recorded == configured
        || (!configured.Contains("://", StringComparison.Ordinal) && Path.GetFullPath(configured).TrimEnd('/') == Path.GetFullPath(recorded).TrimEnd('/'));

    internal static string RemoteRef(string branch) => "refs/remotes/origin/" + branch;
}
