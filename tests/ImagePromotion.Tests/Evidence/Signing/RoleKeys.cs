using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;

namespace ImagePromotion.Tests.Evidence.Signing;

/// <summary>
/// One key pair per role in a test sandbox's folder, the variables a job with every key would have, and the
/// <c>trust:</c> section that trusts them: what the pipeline tests run with unless a test takes a key away.
/// </summary>
internal static class RoleKeys
{
    /// <summary>Makes (once) the pairs under <paramref name="directory"/>/keys.</summary>
    public static string Ensure(string directory)
    {
        var keys = Path.Combine(directory, "keys");
        foreach (var role in Enum.GetValues<KeyRole>()) KeyPairs.Ensure(keys, role);
        return keys;
    }

    /// <summary><c>PROMOTION_SIGNING_KEY_&lt;ROLE&gt;_FILE</c> for every role.</summary>
    public static Dictionary<string, string?> Variables(string keysDirectory) =>
        Enum.GetValues<KeyRole>().ToDictionary(r => EvidenceSigners.FileVariable(r), r => (string?)Path.Combine(keysDirectory, KeyPairs.FileName(r) + ".key"));

    /// <summary>A top-level <c>trust:</c> section naming each role's public key for its kind.</summary>
    public static string TrustYaml(string keysDirectory) => $"""
        trust:
          buildProvenance: ["{Path.Combine(keysDirectory, "build.pub")}"]
          scanResult: ["{Path.Combine(keysDirectory, "scan.pub")}"]
          approvalDecision: ["{Path.Combine(keysDirectory, "approval.pub")}"]
          promotionRecord: ["{Path.Combine(keysDirectory, "promotion.pub")}"]
        """;
}
