using ImagePromotion;
using ImagePromotion.Copy;
using ImagePromotion.Logging;
using ImagePromotion.Registry;
using ImagePromotion.Registry.Transport;

// promote-copy FROM TO [FROM TO ...] [--dry-run] [--result-file=PATH] [--insecure=HOST] [--ca-bundle=PATH] [--parallel=N] [--verbose]
// Several pairs make one run (a release train): they share connections and tokens, and up to N (default 4)
// copy at once, since each copy is mostly waiting on round trips.
var pairs = new List<string>();
var insecure = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
string? resultFile = null, caBundle = null;
bool dryRun = false, verbose = false;
var parallel = 4;
foreach (var a in args)
{
    if (a == "--dry-run") dryRun = true;
    else if (a == "--verbose") verbose = true;
    else if (a.StartsWith("--result-file=")) resultFile = a["--result-file=".Length..];
    else if (a.StartsWith("--insecure=")) insecure.Add(a["--insecure=".Length..]);
    else if (a.StartsWith("--ca-bundle=")) caBundle = a["--ca-bundle=".Length..];
    else if (a.StartsWith("--parallel=") && int.TryParse(a["--parallel=".Length..], out var p) && p > 0) parallel = p;
    else if (a.StartsWith("--")) { Console.Error.WriteLine($"error: unknown option '{a}'"); return 2; }
    else pairs.Add(a);
}
if (pairs.Count == 0 || pairs.Count % 2 != 0)
{
    Console.Error.WriteLine("usage: promote-copy FROM TO [FROM TO ...] [--dry-run] [--result-file=PATH] [--insecure=HOST] [--ca-bundle=PATH] [--parallel=N]");
    return 2;
}
var log = new ConsoleLog(verbose);
try
{
    // --ca-bundle is trusted for the registries named on this command line, and for nothing else.
    var caBundles = caBundle is null ? new Dictionary<string, string>()
        : pairs.Where(p => !p.StartsWith("oci:")).Select(p => ImageReference.Parse(p).Registry).Distinct(StringComparer.OrdinalIgnoreCase)
            .ToDictionary(h => h, _ => caBundle, StringComparer.OrdinalIgnoreCase);
    using var transport = new RegistryTransport(new TransportOptions { InsecureRegistries = insecure, CaBundles = caBundles });
    var copier = new ImageCopier(transport, log);
    // Every reference is parsed before anything is copied: a typo in the tenth pair writes nothing.
    var jobs = Enumerable.Range(0, pairs.Count / 2)
        .Select(i => (From: pairs[2 * i], FromRef: pairs[2 * i].StartsWith("oci:") ? null : ImageReference.Parse(pairs[2 * i]), To: ImageReference.Parse(pairs[2 * i + 1])))
        .ToList();
    using var gate = new SemaphoreSlim(parallel);
    var results = await Task.WhenAll(jobs.Select(async job =>
    {
        await gate.WaitAsync();
        try
        {
            var result = job.FromRef is null
                ? await CopyFromLayout(copier, job.From, job.To)
                : await copier.CopyAsync(job.FromRef, job.To, new CopyOptions { DryRun = dryRun }, CancellationToken.None);
            log.Information($"{result.Destination} {(result.UpToDate ? "already at" : dryRun ? "would be" : "now at")} {result.SourceDigest}");
            return result;
        }
        finally { gate.Release(); }
    }));
    if (resultFile is not null)
        await File.WriteAllTextAsync(resultFile, results.Length == 1 ? results[0].ToJson() : "[" + string.Join(",", results.Select(r => r.ToJson())) + "]");
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
