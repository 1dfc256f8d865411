using ImagePromotion.Evidence;
using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;

namespace ImagePromotion.Configuration;

/// <summary>One public key the configuration trusts: a PEM file (relative to the configuration file) or an environment variable holding the PEM.</summary>
/// <param name="File">The path as written, resolved against the configuration's directory when read.</param>
/// <param name="Variable">The variable holding the PEM public key.</param>
/// <param name="Origin">The dotted key it is written under, for messages (<c>environments.production.trust.scanResult[0]</c>).</param>
public sealed record TrustedKeySource(string? File, string? Variable, string Origin);

/// <summary>
/// An environment's <c>trust:</c> section: per kind of evidence, the public keys whose signatures its gates count.
/// Everything else (unsigned, another key, another digest) is shown and ignored. A push record is the build job's
/// promotion record: it counts when a key trusted for build provenance signed it, every other record only under a key
/// trusted for promotion records.
/// </summary>
public sealed record TrustSettings(IReadOnlyDictionary<EvidenceKind, IReadOnlyList<TrustedKeySource>> Keys, string Origin)
{
    /// <summary>The configuration key of each kind under <c>trust:</c>.</summary>
    public static IReadOnlyDictionary<string, EvidenceKind> KindKeys { get; } = new Dictionary<string, EvidenceKind>(StringComparer.Ordinal)
    {
        ["buildProvenance"] = EvidenceKind.BuildProvenance,
        ["scanResult"] = EvidenceKind.ScanResult,
        ["approvalDecision"] = EvidenceKind.ApprovalDecision,
        ["promotionRecord"] = EvidenceKind.PromotionRecord,
    };

    /// <summary>The key under <c>trust:</c> that names the keys of <paramref name="kind"/>.</summary>
    public static string KeyOf(EvidenceKind kind) => KindKeys.First(k => k.Value == kind).Key;

    /// <summary>Reads the PEM keys (files relative to <paramref name="baseDirectory"/>, variables from <paramref name="environment"/>); one line naming the key and the fix otherwise.</summary>
    public TrustedKeys Load(string file, string baseDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var byKind = new Dictionary<EvidenceKind, IReadOnlyList<VerificationKey>>();
        foreach (var (kind, sources) in Keys)
        {
            var keys = new List<VerificationKey>();
            foreach (var source in sources)
            {
                if (source.File is { } path)
                {
                    var full = Path.GetFullPath(Path.Combine(baseDirectory, path));
                    if (!System.IO.File.Exists(full))
                        throw new PromotionException($"{file}: '{source.Origin}' names {full}, which does not exist: copy the public key there (./build.sh --target=Keys makes key pairs), or fix the path");
                    try { keys.Add(VerificationKey.FromFile(full)); }
                    catch (PromotionException ex) { throw new PromotionException($"{file}: '{source.Origin}': {ex.Message}"); }
                    continue;
                }
                var pem = environment.GetValueOrDefault(source.Variable!);
                if (string.IsNullOrWhiteSpace(pem))
                    throw new PromotionException($"{file}: '{source.Origin}' names the variable {source.Variable}, which is not set: export the PEM public key in it, or name a file");
                try { keys.Add(VerificationKey.FromPem(pem, source.Variable!)); }
                catch (PromotionException ex) { throw new PromotionException($"{file}: '{source.Origin}': {ex.Message}"); }
            }
            byKind[kind] = keys;
        }
        return new TrustedKeys(byKind);
    }
}
