using System.Text;
using System.Text.Json;
using ImagePromotion.Logging;

namespace ImagePromotion.Registry.Auth;

/// <summary>
/// Finds the credential for a registry host, first match wins:
/// 1. explicit credentials given by the configuration (for example from named environment variables);
/// 2. per-registry environment variables for CI: <c>REGISTRY_&lt;HOST&gt;_USERNAME</c> / <c>_PASSWORD</c>
///    (or <c>_TOKEN</c> for a bearer token), HOST upper-cased with every other character turned to '_'
///    (<c>127.0.0.1:5000</c> → <c>REGISTRY_127_0_0_1_5000_USERNAME</c>);
/// 3. Docker's config.json (<c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>):
///    <c>credHelpers</c> for the host, then <c>auths</c>, then the <c>credsStore</c> helper;
/// 4. anonymous.
/// Every secret found is registered with the redactor before it is used.
/// </summary>
public sealed class CredentialStore
{
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly Dictionary<string, RegistryCredential> _explicit = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, RegistryCredential> _resolved = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private JsonDocument? _dockerConfig;
    private bool _dockerConfigLoaded;

    /// <summary>How long a credential helper may take; it may be waiting on a prompt nobody will answer.</summary>
    internal TimeSpan HelperTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A store reading <paramref name="environment"/> (default: the process environment, read once).</summary>
    public CredentialStore(IReadOnlyDictionary<string, string?>? environment = null)
    {
        _environment = environment ?? ReadProcessEnvironment();
    }

    /// <summary>A snapshot of the process environment.</summary>
    public static IReadOnlyDictionary<string, string?> ReadProcessEnvironment()
    {
        var d = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            d[(string)e.Key] = e.Value as string;
        return d;
    }

    /// <summary>Sets the credential for <paramref name="registry"/> ahead of every other source (step 1), registering its secrets with the redactor.</summary>
    public void SetExplicit(string registry, RegistryCredential credential)
    {
        SecretRedactor.Shared.Add(credential.Password);
        SecretRedactor.Shared.Add(credential.IdentityToken);
        SecretRedactor.Shared.Add(credential.RegistryToken);
        lock (_gate) { _explicit[registry] = credential; _resolved.Remove(registry); }
    }

    /// <summary><c>REGISTRY_</c>, the host upper-cased with every non-alphanumeric character turned to <c>_</c>, and <c>_</c>: <c>127.0.0.1:5000</c> → <c>REGISTRY_127_0_0_1_5000_</c>.</summary>
    public static string EnvironmentPrefix(string registry)
    {
        var sb = new StringBuilder("REGISTRY_");
        foreach (var c in registry) sb.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        return sb.Append('_').ToString();
    }

    /// <summary>The credential for <paramref name="registry"/>, from the first source that has one (see the class summary); cached per host. Anonymous when none has.</summary>
    /// <exception cref="PromotionException">Docker's config.json is not valid JSON or has a malformed <c>auth</c>, or a credential helper is missing or does not answer within 30 s.</exception>
    public RegistryCredential Get(string registry)
    {
        lock (_gate)
        {
            if (_resolved.TryGetValue(registry, out var cached)) return cached;
        }
        var credential = Resolve(registry);
        SecretRedactor.Shared.Add(credential.Password);
        SecretRedactor.Shared.Add(credential.IdentityToken);
        SecretRedactor.Shared.Add(credential.RegistryToken);
        lock (_gate) { _resolved[registry] = credential; }
        return credential;
    }

    private RegistryCredential Resolve(string registry)
    {
        lock (_gate)
        {
            if (_explicit.TryGetValue(registry, out var e)) return e;
        }
        var prefix = EnvironmentPrefix(registry);
        var user = Env(prefix + "USERNAME");
        var pass = Env(prefix + "PASSWORD");
        var token = Env(prefix + "TOKEN");
        if (user is not null && pass is not null)
            return new RegistryCredential(user, pass, $"environment variables {prefix}USERNAME/{prefix}PASSWORD");
        if (token is not null)
            return new RegistryCredential(null, null, $"environment variable {prefix}TOKEN") { RegistryToken = token };
        return FromDockerConfig(registry) ?? RegistryCredential.Anonymous;
    }

    private string? Env(string name) =>
        _environment.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;

    private string DockerConfigPath()
    {
        var dir = Env("DOCKER_CONFIG");
        if (dir is null)
        {
            var home = Env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            dir = Path.Combine(home, ".docker");
        }
        return Path.Combine(dir, "config.json");
    }

    private RegistryCredential? FromDockerConfig(string registry)
    {
        var path = DockerConfigPath();
        if (!_dockerConfigLoaded)
        {
            _dockerConfigLoaded = true;
            if (File.Exists(path))
            {
                try { _dockerConfig = JsonDocument.Parse(File.ReadAllBytes(path)); }
                catch (JsonException ex)
                {
                    throw new PromotionException($"Docker config {path} is not valid JSON (line {ex.LineNumber + 1}): fix or remove it, or set DOCKER_CONFIG to another directory");
                }
            }
        }
        if (_dockerConfig is null) return null;
        var root = _dockerConfig.RootElement;
        // Some families file credentials under other keys (Docker Hub: its legacy v1 index URL).
        var keys = Profiles.RegistryProfiles.For(registry).CredentialKeys?.ToArray()
            ?? new[] { registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v2/", "https://" + registry + "/v1/" };

        if (root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object)
            foreach (var key in keys)
                if (helpers.TryGetProperty(key, out var h) && h.GetString() is { Length: > 0 } helper)
                    return FromHelper(helper, keys[0], path);

        if (root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object)
            foreach (var key in keys)
                if (auths.TryGetProperty(key, out var entry) && FromAuthEntry(entry, path) is { } c)
                    return c;

        if (root.TryGetProperty("credsStore", out var store) && store.GetString() is { Length: > 0 } storeName)
            return FromHelper(storeName, keys[0], path);
        return null;
    }

    private static RegistryCredential? FromAuthEntry(JsonElement entry, string path)
    {
        string? user = null, pass = null;
        if (entry.TryGetProperty("auth", out var a) && a.GetString() is { Length: > 0 } b64)
        {
            string decoded;
            try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(b64)); }
            catch (FormatException) { throw new PromotionException($"Docker config {path}: an 'auth' value is not base64 of user:password: run 'docker login' again"); }
            var colon = decoded.IndexOf(':');
            if (colon < 0) throw new PromotionException($"Docker config {path}: an 'auth' value is not of the form user:password: run 'docker login' again");
            user = decoded[..colon];
            pass = decoded[(colon + 1)..];
        }
        if (entry.TryGetProperty("username", out var u) && u.GetString() is { Length: > 0 } uu) user = uu;
        if (entry.TryGetProperty("password", out var p) && p.GetString() is { Length: > 0 } pp) pass = pp;
        var identity = entry.TryGetProperty("identitytoken", out var it) ? it.GetString() : null;
        var registryToken = entry.TryGetProperty("registrytoken", out var rt) ? rt.GetString() : null;
        if (user is null && pass is null && string.IsNullOrEmpty(identity) && string.IsNullOrEmpty(registryToken)) return null;
        return new RegistryCredential(user, pass, $"Docker config {path}")
        {
            IdentityToken = string.IsNullOrEmpty(identity) ? null : identity,
            RegistryToken = string.IsNullOrEmpty(registryToken) ? null : registryToken,
        };
    }

    /// <summary>Runs <c>docker-credential-NAME get</c> with the server URL on stdin, as the Docker CLI does.</summary>
    private RegistryCredential? FromHelper(string name, string serverUrl, string path)
    {
        var exe = "docker-credential-" + name;
        ImagePromotion.Processes.ProcessResult result;
        try
        {
            // Synchronous by contract (credentials are looked up inside the HTTP handler chain); the runner
            // still drains both pipes and kills a helper stuck on a prompt nobody answers in CI.
            result = ImagePromotion.Processes.ProcessRunner.RunAsync(new ImagePromotion.Processes.ProcessRequest(exe, ["get"])
            {
                StandardInput = serverUrl, Timeout = HelperTimeout, Description = exe,
            }).GetAwaiter().GetResult();
        }
        catch (ImagePromotion.Processes.ProcessNotFoundException)
        {
            throw new PromotionException($"Docker config {path} names credential helper '{name}' but {exe} is not on PATH: install it or remove it from the config");
        }
        catch (ImagePromotion.Processes.ProcessTimeoutException)
        {
            throw new PromotionException($"credential helper {exe} did not answer within {(int)Math.Ceiling(HelperTimeout.TotalSeconds)} s for {serverUrl}: check that it can run without a prompt, or give the credentials as REGISTRY_<HOST>_USERNAME/PASSWORD instead");
        }
        var stdout = result.Output;
        // Helpers answer "credentials not found in native keychain" with a non-zero exit: that means anonymous.
        if (result.ExitCode != 0) return null;
        try
        {
            using var doc = JsonDocument.Parse(stdout);
            var user = doc.RootElement.TryGetProperty("Username", out var u) ? u.GetString() : null;
            var secret = doc.RootElement.TryGetProperty("Secret", out var s) ? s.GetString() : null;
            if (string.IsNullOrEmpty(secret)) return null;
            // Docker's convention: the user name "<token>" means the secret is an identity token.
            if (user == "<token>")
                return new RegistryCredential(null, null, $"credential helper {exe}") { IdentityToken = secret };
            return new RegistryCredential(user, secret, $"credential helper {exe}");
        }
        catch (JsonException)
        {
            throw new PromotionException($"credential helper {exe} printed something that is not JSON for {serverUrl}: check the helper");
        }
    }
}
