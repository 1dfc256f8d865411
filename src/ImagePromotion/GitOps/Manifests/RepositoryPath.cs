namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Resolves manifest paths given relative to a repository checkout and refuses any that leave it:
/// absolute paths, <c>..</c> segments and symbolic links (of the file or any folder on the way) that
/// lead outside. The check is made on real paths, with every link resolved.
/// </summary>
internal static class RepositoryPath
{
    private const int MaxLinkHops = 40;

    public static string RealRoot(string root)
    {
        if (string.IsNullOrWhiteSpace(root)) throw new PromotionException("the repository root is empty; pass the checkout's folder");
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full)) throw new PromotionException($"repository root {root} does not exist; pass the checkout's folder");
        return RealPath(full, root);
    }

    /// <summary>The real path of <paramref name="relative"/> inside <paramref name="realRoot"/>.</summary>
    public static string Resolve(string realRoot, string relative)
    {
        if (string.IsNullOrWhiteSpace(relative) || relative.Contains('\0'))
            throw new PromotionException($"manifest path '{relative}' is empty or invalid; give a path relative to the repository root");
        if (Path.IsPathRooted(relative) || relative.StartsWith('/') || relative.StartsWith('\\') || relative.StartsWith('~'))
            throw new PromotionException($"manifest path '{relative}' is absolute; give it relative to the repository root (e.g. deploy/app.yaml)");
        if (relative.Split('/', '\\').Any(s => s == ".."))
            throw new PromotionException($"manifest path '{relative}' contains '..'; give a path inside the repository without '..'");
        var full = Path.GetFullPath(Path.Combine(realRoot, relative));
        if (!IsInside(realRoot, full))
            throw new PromotionException($"manifest path '{relative}' leaves the repository root; give a path inside it");
        var real = RealPath(full, relative);
        if (!IsInside(realRoot, real))
            throw new PromotionException($"manifest path '{relative}' is a symbolic link (or lies under one) that leads outside the repository; refusing to follow it");
        return real;
    }

    public static bool IsInside(string realRoot, string path)
    {
        var root = Path.TrimEndingDirectorySeparator(realRoot);
        return path == root || path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>Resolves every symbolic link on the way, like realpath(3); missing tail components are kept as given.</summary>
    private static string RealPath(string full, string shown)
    {
        var hops = 0;
        var pending = new Stack<string>(full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = Path.GetPathRoot(full) ?? "/";
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? current; continue; }
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is not { } target) { current = next; continue; }
            if (++hops > MaxLinkHops) throw new PromotionException($"manifest path '{shown}' has too many symbolic links; point at the file itself");
            // The link target (absolute, or relative to the link's folder) replaces the link: walk it from the root.
            var resolved = Path.Combine(current, target);
            foreach (var piece in resolved.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                pending.Push(piece);
            current = Path.GetPathRoot(resolved) ?? "/";
        }
        return current;
    }
}
