using ImagePromotion.Logging;

namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// The outcome for one manifest file: the old and new values, whether the file was rewritten, and a
/// unified diff of the change (empty when unchanged).
/// </summary>
public sealed record ManifestUpdateResult(string File, bool Changed, IReadOnlyList<ImageChange> Changes, string Diff)
{
    /// <summary>"changed", or "unchanged" when the file already held the wanted value(s).</summary>
    public string Status => Changed ? "changed" : "unchanged";
    /// <summary>The value before at each place (null where the key was added), in the order of <see cref="ManifestUpdateResult.Changes"/>.</summary>
    public IReadOnlyList<string?> OldValues => Changes.Select(c => c.OldValue).ToList();
    /// <summary>The value wanted at each place, in the same order.</summary>
    public IReadOnlyList<string> NewValues => Changes.Select(c => c.NewValue).ToList();
    /// <summary>The image(s) the file pinned before the update, as a consumer renders them (see <see cref="ManifestEdit.Pinned"/>).</summary>
    public IReadOnlyList<string> Pinned { get; init; } = [];
}

/// <summary>
/// Updates image references in manifests inside a repository checkout. Paths are relative to the root and
/// may not leave it; a file is rewritten (atomically) only when its content changes.
/// </summary>
public sealed class ManifestUpdater
{
    private static readonly string[] ManifestExtensions = [".yaml", ".yml"];
    private static readonly string[] KustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
    private readonly string _root;
    private readonly ManifestLimits _limits;
    private readonly IPipelineLog? _log;

    /// <summary>An updater for the checkout at <paramref name="repositoryRoot"/> (symbolic links resolved; paths may not leave it).</summary>
    /// <param name="repositoryRoot">The work tree's root folder.</param>
    /// <param name="limits">Size, depth and alias limits; <see cref="ManifestLimits.Default"/> when null.</param>
    /// <param name="log">Where each change is logged (unchanged files at verbose level); nothing when null.</param>
    public ManifestUpdater(string repositoryRoot, ManifestLimits? limits = null, IPipelineLog? log = null)
    {
        _root = RepositoryPath.RealRoot(repositoryRoot);
        _limits = limits ?? ManifestLimits.Default;
        _log = log;
    }

    /// <summary>Writes <paramref name="newImage"/> into one manifest at <paramref name="manifestPath"/> (relative to the root).</summary>
    public async Task<ManifestUpdateResult> UpdateFileAsync(string manifestPath, ManifestTarget target, string newImage, CancellationToken cancellationToken = default)
    {
        var (shown, real, text, edit) = await PlanFileAsync(manifestPath, target, newImage, cancellationToken).ConfigureAwait(false);
        return await CommitAsync(shown, real, text, edit, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the manifest and plans the update without writing: <see cref="ManifestUpdateResult.Changed"/> says
    /// whether it would change, <see cref="ManifestUpdateResult.Pinned"/> what it pins now. Errors as for an update.
    /// </summary>
    public async Task<ManifestUpdateResult> CheckFileAsync(string manifestPath, ManifestTarget target, string newImage, CancellationToken cancellationToken = default)
    {
        var (shown, _, text, edit) = await PlanFileAsync(manifestPath, target, newImage, cancellationToken).ConfigureAwait(false);
        return new ManifestUpdateResult(shown, edit.Changed && edit.Text != text, edit.Changes, "") { Pinned = edit.Pinned };
    }

    private async Task<(string Shown, string Real, string Text, ManifestEdit Edit)> PlanFileAsync(string manifestPath, ManifestTarget target, string newImage, CancellationToken cancellationToken)
    {
        var shown = Shown(manifestPath);
        var real = RepositoryPath.Resolve(_root, manifestPath);
        if (target is KustomizeImageTarget && Directory.Exists(real))
        {
            // `kustomize edit set image` works on a folder; so does this.
            var name = KustomizationNames.FirstOrDefault(n => File.Exists(Path.Combine(real, n)))
                ?? throw new PromotionException($"folder {shown} has no kustomization.yaml (or .yml, Kustomization); point at the kustomization file");
            shown = Shown(Path.Combine(manifestPath, name));
            real = RepositoryPath.Resolve(_root, Path.Combine(manifestPath, name));
        }
        var text = await ManifestFile.ReadAsync(real, shown, _limits, cancellationToken).ConfigureAwait(false);
        return (shown, real, text, ManifestEditor.Edit(text, shown, target, newImage, _limits));
    }

    /// <summary>
    /// Writes <paramref name="newImage"/> into every matching workload container in the *.yaml/*.yml files
    /// under <paramref name="directory"/> (relative to the root; "." for all). Files that do not mention the
    /// image are skipped without parsing; all edits are planned before any file is written, so an error
    /// leaves every file as it was. Symbolic links are not followed.
    /// </summary>
    public async Task<IReadOnlyList<ManifestUpdateResult>> UpdateTreeAsync(string directory, ContainerImageTarget target, string newImage, CancellationToken cancellationToken = default)
    {
        var realDirectory = directory is "." or "" ? _root : RepositoryPath.Resolve(_root, directory);
        if (!Directory.Exists(realDirectory)) throw new PromotionException($"folder {Shown(directory)} does not exist under the repository root; check the path");
        var image = ManifestEditor.ParseImage(newImage, Shown(directory));
        var needle = System.Text.Encoding.UTF8.GetBytes(WorkloadImages.Needle(target, image));
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        var planned = new List<(string Shown, string Real, string Text, ManifestEdit Edit)>();
        foreach (var file in Directory.EnumerateFiles(realDirectory, "*", options).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ManifestExtensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase)) continue;
            var relative = Path.GetRelativePath(_root, file);
            if (relative.Split(Path.DirectorySeparatorChar).Contains(".git")) continue;
            var shown = Shown(relative);
            // Most files never mention the image: rule them out on the raw bytes, before decoding or parsing.
            var bytes = ManifestFile.ReadBytes(file, shown, _limits);
            if (bytes.AsSpan().IndexOf(needle) < 0 || bytes.AsSpan().IndexOf("image"u8) < 0) continue;
            var text = ManifestFile.Decode(bytes, shown);
            ManifestEdit edit;
            try { edit = ManifestEditor.Edit(text, shown, target, newImage, _limits); }
            catch (NoMatchingContainerException) { continue; }
            planned.Add((shown, file, text, edit));
        }
        if (planned.Count == 0)
            throw new PromotionException($"no manifest under {Shown(directory)} has a container for {image.Reference.Name}; check the folder or the image name");
        var results = new List<ManifestUpdateResult>();
        foreach (var (shown, real, text, edit) in planned)
            results.Add(await CommitAsync(shown, real, text, edit, cancellationToken).ConfigureAwait(false));
        return results;
    }

    private async Task<ManifestUpdateResult> CommitAsync(string shown, string real, string text, ManifestEdit edit, CancellationToken cancellationToken)
    {
        if (!edit.Changed || edit.Text == text)
        {
            _log?.Verbose($"{shown}: unchanged, already {string.Join(", ", edit.Changes.Select(c => c.NewValue).Distinct())}");
            return new ManifestUpdateResult(shown, false, edit.Changes, "") { Pinned = edit.Pinned };
        }
        await ManifestFile.WriteAtomicallyAsync(real, shown, text, edit.Text, cancellationToken).ConfigureAwait(false);
        foreach (var change in edit.Changes.Where(c => c.Changed))
            _log?.Information($"{shown}:{change.Line}: {change.Location}: {change.OldValue ?? "(added)"} -> {change.NewValue}");
        var diff = UnifiedDiff.Create(text.TrimStart('\uFEFF'), edit.Text.TrimStart('\uFEFF'), "a/" + shown, "b/" + shown);
        return new ManifestUpdateResult(shown, true, edit.Changes, diff) { Pinned = edit.Pinned };
    }

    private static string Shown(string relative) => relative.Replace('\\', '/');
}
