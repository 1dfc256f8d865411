using System.Text.Json;

namespace ImagePromotion.Scanning;

/// <summary>
/// Hygiene checks on the image configuration blob (OCI <c>application/vnd.oci.image.config.v1+json</c> or
/// Docker <c>application/vnd.docker.container.image.v1+json</c>; both keep runtime settings under <c>config</c>).
/// </summary>
public sealed class ImageConfigInspector(BuiltInRuleSettings? settings = null)
{
    /// <summary>The OCI annotation/label key naming the source repository URL.</summary>
    public const string SourceLabel = "org.opencontainers.image.source";
    /// <summary>The OCI annotation/label key naming the source revision (commit).</summary>
    public const string RevisionLabel = "org.opencontainers.image.revision";

    private readonly BuiltInRuleSettings _settings = settings ?? BuiltInRuleSettings.Default;

    /// <param name="configJson">The config blob as fetched.</param>
    /// <param name="configName">Names the blob in errors, e.g. its digest.</param>
    public IReadOnlyList<Finding> Inspect(ReadOnlyMemory<byte> configJson, string configName = "image config")
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(configJson); }
        catch (JsonException ex)
        {
            throw new PromotionException($"{configName}: not valid JSON ({ex.Message}); pass the image config blob the manifest's config descriptor points to");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new PromotionException($"{configName}: expected a JSON object (an OCI or Docker image config), found {document.RootElement.ValueKind}");
            // "config" is optional in the OCI spec: an image with no runtime settings is root with nothing else set.
            var config = document.RootElement.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
            var findings = new List<Finding>();
            CheckUser(config, findings);
            CheckEnv(config, findings);
            CheckLabels(config, findings);
            CheckPorts(config, findings);
            CheckHealthcheck(config, findings);
            return findings.Where(f => _settings.IsEnabled(BuiltInRules.Find(f.Id)!)).ToArray();
        }
    }

    private void CheckUser(JsonElement config, List<Finding> findings)
    {
        var user = String(config, "User");
        var name = user?.Split(':')[0];
        if (string.IsNullOrEmpty(name))
            findings.Add(Hit(BuiltInRules.RootUser, "runs as root: no USER is set"));
        else if (name is "root" or "0")
            findings.Add(Hit(BuiltInRules.RootUser, $"runs as root: USER {user}"));
    }

    private void CheckEnv(JsonElement config, List<Finding> findings)
    {
        if (!TryGet(config, "Env", JsonValueKind.Array, out var env)) return;
        foreach (var item in env.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) continue;
            var text = item.GetString()!;
            var eq = text.IndexOf('=');
            if (eq <= 0 || eq == text.Length - 1) continue;
            var variable = text[..eq];
            if (!LooksLikeSecretName(variable)) continue;
            // The value is never read into the finding: the name is enough to find it in the Dockerfile.
            findings.Add(Hit(BuiltInRules.SecretInEnv, $"ENV {variable} has a value baked into the image config", path: "config.Env." + variable));
        }
    }

    internal static bool LooksLikeSecretName(string variable)
    {
        var name = variable.ToUpperInvariant();
        // *_FILE, *_PATH, *_DIR point at a secret (the Docker secrets convention, e.g. POSTGRES_PASSWORD_FILE), they are not one.
        if (name.EndsWith("_FILE") || name.EndsWith("_PATH") || name.EndsWith("_DIR")) return false;
        // Public keys and the GPG key fingerprints official images use to verify downloads are not secrets.
        if (name.Contains("PUBLIC") || name is "GPG_KEY" or "GPG_KEYS") return false;
        if (name.Contains("PASSWORD") || name.Contains("PASSWD") || name.Contains("SECRET") || name.Contains("TOKEN")) return true;
        return name.Split('_', '-', '.').Any(part => part.EndsWith("KEY", StringComparison.Ordinal));
    }

    private void CheckLabels(JsonElement config, List<Finding> findings)
    {
        TryGet(config, "Labels", JsonValueKind.Object, out var labels);
        bool Has(string label) => labels.ValueKind == JsonValueKind.Object
            && labels.TryGetProperty(label, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0;
        if (!Has(SourceLabel))
            findings.Add(Hit(BuiltInRules.MissingSourceLabel, $"label {SourceLabel} is missing: the image cannot be traced to its repository"));
        if (!Has(RevisionLabel))
            findings.Add(Hit(BuiltInRules.MissingRevisionLabel, $"label {RevisionLabel} is missing: the image cannot be traced to its commit"));
    }

    private void CheckPorts(JsonElement config, List<Finding> findings)
    {
        if (!TryGet(config, "ExposedPorts", JsonValueKind.Object, out var ports)) return;
        foreach (var port in ports.EnumerateObject())
        {
            if (port.Name is "22" or "22/tcp")
                findings.Add(Hit(BuiltInRules.SshPortExposed, $"exposes {port.Name} (SSH): use docker exec / kubectl exec instead of an SSH server"));
        }
    }

    private void CheckHealthcheck(JsonElement config, List<Finding> findings)
    {
        // HEALTHCHECK NONE is stored as Test ["NONE"]: an explicit opt-out is still no health check.
        var hasCheck = TryGet(config, "Healthcheck", JsonValueKind.Object, out var hc)
            && TryGet(hc, "Test", JsonValueKind.Array, out var test)
            && test.GetArrayLength() > 0
            && test[0].ValueKind == JsonValueKind.String && test[0].GetString() != "NONE";
        if (!hasCheck) findings.Add(Hit(BuiltInRules.NoHealthcheck, "no HEALTHCHECK in the image config"));
    }

    private Finding Hit(BuiltInRule rule, string title, string? path = null) => new()
    {
        Id = rule.Id, Severity = _settings.SeverityOf(rule), Source = "builtin", Title = title, Path = path,
    };

    private static bool TryGet(JsonElement element, string name, JsonValueKind kind, out JsonElement value)
    {
        value = default;
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value) && value.ValueKind == kind;
    }

    private static string? String(JsonElement element, string name) =>
        TryGet(element, name, JsonValueKind.String, out var v) ? v.GetString() : null;
}
