// The command line before anything runs: the target exists, every argument is known, every value is well formed
// and every path resolved from the directory the user ran ./build.sh from; and the Help target that lists them.
// A wrong name gets one line with the closest valid one, instead of Cake's "The target 'X' was not found."

Target("Help", "List the targets with their arguments, the default target and the arguments every target takes (./build.sh --help)");

/// <summary>"HEAD: did you mean X? Rest" or "HEAD: rest": the shape of every unknown-name message.</summary>
static string UnknownName(string head, string suggestion, string rest) => suggestion is null
    ? $"{head}: {char.ToLowerInvariant(rest[0])}{rest[1..]}"
    : $"{head}: did you mean {suggestion}? {rest}";

/// <summary>The target as Cake registered it (case as declared), or one line naming the closest valid target.</summary>
string CheckTarget(string target)
{
    var names = Tasks.Select(t => t.Name).ToArray();
    var known = names.FirstOrDefault(n => string.Equals(n, target, StringComparison.OrdinalIgnoreCase));
    if (known is not null) return known;
    throw new PromotionException(UnknownName($"unknown target '{target}'", ImagePromotion.CommandLine.Suggestions.ClosestMatch(target, names),
        $"The targets are {string.Join(", ", names)} (./build.sh --help lists their arguments)"));
}

/// <summary>The arguments <paramref name="target"/> reads itself, and those of the targets it runs first.</summary>
IEnumerable<ImagePromotion.CommandLine.ArgumentUsage> OwnArguments(string target)
{
    var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
    var pending = new Stack<string>(new[] { target });
    while (pending.Count > 0)
    {
        var name = pending.Pop();
        if (!seen.Add(name)) continue;
        foreach (var d in Tasks.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))?.Dependencies ?? Array.Empty<CakeTaskDependency>())
            pending.Push(d.Name);
    }
    return seen.SelectMany(n => TargetArguments.GetValueOrDefault(n) ?? Array.Empty<ImagePromotion.CommandLine.ArgumentUsage>())
        .DistinctBy(a => a.Name, StringComparer.OrdinalIgnoreCase);
}

/// <summary>One line for the first argument no target reads, naming the closest known one and the target's own arguments.</summary>
void CheckArgumentNames(string target)
{
    foreach (var key in Context.Arguments.GetArguments().Keys)
    {
        if (KnownArguments.Contains(key)) continue;
        var own = OwnArguments(target).Select(a => a.ToString()).ToArray();
        var takes = own.Length == 0 ? $"{target} takes no arguments of its own" : $"{target} takes {string.Join(" ", own)}";
        var match = ImagePromotion.CommandLine.Suggestions.ClosestMatch(key, KnownArguments);
        throw new PromotionException(UnknownName($"unknown argument '--{key}' for target {target}", match is null ? null : "--" + match,
            $"{takes}; every target takes {string.Join(" ", CommonArguments.Select(a => a.ToString()))} (./build.sh --help lists them all)"));
    }
}

/// <summary>
/// Every value checked before any target runs, so a bad one costs nothing and writes nothing: digests, image
/// references, yes/no values, the files a target reads and the directory of a file it writes.
/// </summary>
void CheckArgumentValues(string target)
{
    if (Argument<string>("digest", null) is { } digest) ImagePromotion.CommandLine.ArgumentChecks.Digest("digest", digest);
    if (Argument<string>("image", null) is { } image) ImagePromotion.CommandLine.ArgumentChecks.Reference("image", image);
    // A target that promotes a pinned artifact needs --image with its digest (UpdateManifest, Scan take any reference).
    if (OwnArguments(target).Any(a => a.Name == "digest")) RequestedDigest();
    AutoMerge();
    if (Argument<string>("result-file", null) is { } resultFile) ImagePromotion.CommandLine.ArgumentChecks.OutputFile("result-file", UserPath(resultFile), resultFile);
    if (Argument<string>("manifest", null) is { } manifest) ImagePromotion.CommandLine.ArgumentChecks.InputFile("manifest", UserPath(manifest), manifest);
    foreach (var key in Arguments<string>("trusted-key", Array.Empty<string>())) ImagePromotion.CommandLine.ArgumentChecks.InputFile("trusted-key", UserPath(key), key);
    if (Argument<string>("role", null) is { } role) KeyRoles();
    if (target == "Copy")
    {
        CopySource();
        if (Argument<string>("to", null) is { } to) ImagePromotion.CommandLine.ArgumentChecks.Reference("to", to);
    }
}

/// <summary>What help prints: every target with its arguments, the default, the common arguments.</summary>
IReadOnlyList<string> HelpLines()
{
    var targets = Tasks.OrderBy(t => t.Name == "Help").Select(t => new ImagePromotion.CommandLine.TargetUsage(t.Name,
            // The description without the argument list Target() appended for --description: help lists them on their own line.
            (t.Description ?? "").Split(". Arguments: ")[0].Replace(" (the default target)", ""),
            (TargetArguments.GetValueOrDefault(t.Name) ?? Array.Empty<ImagePromotion.CommandLine.ArgumentUsage>()).ToArray(),
            t.Dependencies.Select(d => d.Name).ToArray()))
        .ToArray();
    return ImagePromotion.CommandLine.HelpText.Format(targets, CommonArguments, _defaultTarget);
}
