using ImagePromotion.Registry;

namespace ImagePromotion.CommandLine;

/// <summary>
/// Checks of command-line values, run before a target does anything: each failure is one line that names the
/// argument as typed and the fix. Paths are already absolute here (see <see cref="InvocationDirectory"/>).
/// </summary>
public static class ArgumentChecks
{
    /// <summary><c>true</c> or <c>false</c> (any case), else an error naming <c>--name=value</c>.</summary>
    public static bool Boolean(string name, string value) =>
        bool.TryParse(value, out var b) ? b
            : throw new PromotionException($"--{name}={value} is not a yes/no value: write --{name}=true or --{name}=false");

    /// <summary>A digest (<c>sha256:</c> and 64 hex digits), else an error naming the argument.</summary>
    public static Digest Digest(string name, string value) =>
        Registry.Digest.TryParse(value, out var d) ? d
            : throw new PromotionException($"--{name}={value} is not a digest: write --{name}=sha256:<64 lowercase hex digits>, as `./build.sh --target=Status` prints them");

    /// <summary>An image reference, else the reference error prefixed with the argument.</summary>
    public static ImageReference Reference(string name, string value)
    {
        try { return ImageReference.Parse(value); }
        catch (PromotionException ex) { throw new PromotionException($"--{name}: {ex.Message}"); }
    }

    /// <summary>
    /// A file the target will write (<c>--result-file</c>): its directory must exist and the path must not be a
    /// directory, so the run fails before any registry write rather than after it.
    /// </summary>
    public static string OutputFile(string name, string path, string typed)
    {
        if (Directory.Exists(path))
            throw new PromotionException($"--{name}={typed} is a directory: name a file, e.g. --{name}={Path.Combine(typed, "result.json")}");
        var directory = Path.GetDirectoryName(path);
        if (directory is not null && !Directory.Exists(directory))
            throw new PromotionException($"--{name}={typed}: the directory {directory} does not exist: create it first (relative paths start from the directory you ran ./build.sh from)");
        return path;
    }

    /// <summary>A file the target reads, which must exist.</summary>
    public static string InputFile(string name, string path, string typed) =>
        File.Exists(path) ? path
            : throw new PromotionException($"--{name}={typed}: {path} is not a file: check the path (relative paths start from the directory you ran ./build.sh from)");

    /// <summary>
    /// <c>oci:DIR:TAG</c>, an OCI image layout and the tag inside it (what <c>buildah push IMAGE oci:DIR:TAG</c>
    /// writes): the directory resolved by <paramref name="resolve"/>, which must hold a layout.
    /// </summary>
    public static (string Directory, string Tag) Layout(string name, string value, Func<string, string> resolve)
    {
        var body = value["oci:".Length..];
        var colon = body.LastIndexOf(':');
        if (colon < 0 || colon == body.Length - 1)
            throw new PromotionException($"--{name}={value} names no tag: an OCI layout holds images by tag, so write --{name}=oci:{body.TrimEnd(':')}:TAG (BuildOnce writes .artifacts/oci with the tag git-<commit>)");
        if (colon == 0)
            throw new PromotionException($"--{name}={value} names no directory: write --{name}=oci:DIR:TAG");
        var directory = resolve(body[..colon]);
        if (!File.Exists(Path.Combine(directory, "index.json")))
            throw new PromotionException($"--{name}={value}: {directory} is not an OCI image layout (no index.json): check the path (relative paths start from the directory you ran ./build.sh from)");
        return (directory, body[(colon + 1)..]);
    }
}
