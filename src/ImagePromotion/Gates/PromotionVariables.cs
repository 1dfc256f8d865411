using ImagePromotion.Gates.Cel;

namespace ImagePromotion.Gates;

/// <summary>
/// What a policy condition can see about the image and the promotion. Unknown facts stay null, so a condition
/// that needs them fails with an error instead of silently passing.
/// </summary>
public sealed record PromotionVariables
{
    /// <summary>The severities the <c>scan</c> variable has counts for, most severe first (CEL: <c>scan.critical</c> … <c>scan.low</c>).</summary>
    public static readonly IReadOnlyList<string> Severities = ["critical", "high", "medium", "low"];

    /// <summary>Target environment of the promotion (CEL: <c>environment</c>).</summary>
    public required string Environment { get; init; }

    /// <summary>Environment the image is promoted from; null when it comes straight from the CI build.</summary>
    public string? SourceEnvironment { get; init; }

    /// <summary>Git branch the image was built from (CEL: <c>branch</c>, also <c>branchName</c> as in Devtron).</summary>
    public string? Branch { get; init; }
    /// <summary>Full commit SHA the image was built from (CEL: <c>commit</c>).</summary>
    public string? Commit { get; init; }
    /// <summary>Image repository, <c>host/path</c> (CEL: <c>repository</c>).</summary>
    public string? Repository { get; init; }
    /// <summary>Manifest digest being promoted, <c>sha256:…</c> (CEL: <c>digest</c>).</summary>
    public string? Digest { get; init; }
    /// <summary>Tags the image has (CEL: <c>tags</c>, a list of strings).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
    /// <summary>OCI config labels of the image (CEL: <c>labels</c>, a string map).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Time since the image was built (CEL: <c>imageAge</c> duration, <c>imageAgeSeconds</c> int). When null
    /// and <see cref="BuiltAt"/> is known, the evaluator derives it from its clock.
    /// </summary>
    public TimeSpan? ImageAge { get; init; }

    /// <summary>When the image was built (CEL: <c>builtAt</c> timestamp).</summary>
    public DateTimeOffset? BuiltAt { get; init; }

    /// <summary>Vulnerability counts by severity; null when no scan is known (CEL: <c>scan.critical</c>, ...).</summary>
    public IReadOnlyDictionary<string, long>? ScanCounts { get; init; }

    /// <summary>Who triggered the image build, a CI login (CEL: <c>builder</c>), for separation-of-duties rules.</summary>
    public string? Builder { get; init; }
    /// <summary>Who asked for the promotion (CEL: <c>requester</c>).</summary>
    public string? Requester { get; init; }
    /// <summary>Who will deploy, the CI actor of this run (CEL: <c>deployer</c>).</summary>
    public string? Deployer { get; init; }

    /// <summary>Further variables a host wants to expose; they cannot replace the built-in names.</summary>
    public IReadOnlyDictionary<string, object?> Extra { get; init; } = new Dictionary<string, object?>();

    /// <summary>The CEL variable bindings, documented names first; <c>branchName</c> is Devtron's spelling.</summary>
    /// <param name="now">The evaluation instant (CEL: <c>now</c>); also used to derive imageAge from builtAt.</param>
    public IReadOnlyDictionary<string, object?> ToCelVariables(DateTimeOffset? now = null)
    {
        var imageAge = ImageAge ?? (now is { } n && BuiltAt is { } built ? n - built : null);
        var vars = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in Extra) vars[k] = v;
        object? scan = null;
        if (ScanCounts is not null)
        {
            // Severities the scanner did not report are zero, so "scan.high == 0" works for a clean image.
            var counts = Severities.ToDictionary(s => s, _ => 0L);
            foreach (var (k, v) in ScanCounts) counts[k.ToLowerInvariant()] = v;
            scan = counts;
        }
        object? age = imageAge;
        var image = new Dictionary<string, object?>
        {
            ["repository"] = Repository, ["digest"] = Digest, ["tags"] = Tags, ["labels"] = Labels, ["age"] = age, ["builtAt"] = BuiltAt,
        };
        vars["environment"] = Environment;
        vars["sourceEnvironment"] = SourceEnvironment;
        vars["branch"] = Branch;
        vars["branchName"] = Branch;
        vars["commit"] = Commit;
        vars["repository"] = Repository;
        vars["digest"] = Digest;
        vars["tags"] = Tags;
        vars["labels"] = Labels;
        vars["imageAge"] = age;
        vars["imageAgeSeconds"] = imageAge is { } a ? (long)a.TotalSeconds : null;
        vars["builtAt"] = BuiltAt;
        vars["now"] = now;
        vars["scan"] = scan;
        vars["builder"] = Builder;
        vars["requester"] = Requester;
        vars["deployer"] = Deployer;
        vars["image"] = image;
        return vars;
    }
}
