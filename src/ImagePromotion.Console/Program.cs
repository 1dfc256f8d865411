using ImagePromotion;
using ImagePromotion.Copy;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

// promote-copy FROM TO [FROM TO ...] [--dry-run] [--result-file=PATH] [--insecure=HOST] [--ca-bundle=PATH] [--verbose]
// Several pairs make one run share connections and tokens (a release train).
var pairs = new List<string>();
var insecure = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
string? resultFile = null, caBundle = null;
bool dryRun = false, verbose = false;
foreach (var a in args)
{
    if (a == "--dry-run") dryRun = true;
    else if (a == "--verbose") verbose = true;
    else if (a.StartsWith("--result-file=")) resultFile = a["--result-file=".Length..];
    else if (a.StartsWith("--insecure=")) insecure.Add(a["--insecure=".Length..]);
    else if (a.StartsWith("--ca-bundle=")) caBundle = a["--ca-bundle=".Length..];
    else if (a.StartsWith("--")) { Console.Error.WriteLine($"error: unknown option '{a}'"); return 2; }
    else pairs.Add(a);
}
if (pairs.Count == 0 || pairs.Count % 2 != 0)
{
    Console.Error.WriteLine("usage: promote-copy FROM TO [FROM TO ...] [--dry-run] [--result-file=PATH] [--insecure=HOST]");
    return 2;
}
var log = new ConsoleLog(verbose);
try
{
    using var transport = new RegistryTransport(new TransportOptions { InsecureRegistries = insecure, CaBundlePath = caBundle });
    var copier = new ImageCopier(transport, log);
    var results = new List<CopyResult>();
    for (var i = 0; i < pairs.Count; i += 2)
    {
        var to = ImageReference.Parse(pairs[i + 1]);
        var result = pairs[i].StartsWith("oci:")
            ? await CopyFromLayout(copier, pairs[i], to)
            : await copier.CopyAsync(ImageReference.Parse(pairs[i]), to, new CopyOptions { DryRun = dryRun }, CancellationToken.None);
        results.Add(result);
        log.Information($"{result.Destination} {(result.UpToDate ? "already at" : dryRun ? "would be" : "now at")} {result.SourceDigest}");
    }
    if (resultFile is not null)
        await File.WriteAllTextAsync(resultFile, results.Count == 1 ? results[0].ToJson() : "[" + string.Join(",", results.Select(r => r.ToJson())) + "]");
    return 0;
}
catch (PromotionException ex)
{
    Console.Error.WriteLine("error: " + SecretRedactor.Shared.Redact(ex.Message));
    return 1;
}

static Task<CopyResult> CopyFromLayout(ImageCopier copier, string from, ImageReference to)
{
    // oci:DIR:TAG
    var rest = from["oci:".Length..];
    var colon = rest.LastIndexOf(':');
    return copier.CopyAsync(new LayoutSource(rest[..colon]), rest[(colon + 1)..], to, new CopyOptions(), CancellationToken.None);
}
