using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ImagePromotion.Configuration;

/// <summary>
/// Loads and validates promotion.yaml. Overrides (<c>--set environments.production.tag=prod</c>, or
/// environment variables <c>PROMOTION__environments__production__tag</c>) are applied to the YAML tree
/// before it is read, so they get the same type checks as the file.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Prefix of environment variables that override configuration keys, <c>__</c> separating the path (<c>PROMOTION__environments__production__tag</c>).</summary>
    public const string EnvironmentPrefix = "PROMOTION__";
    private const long MaxFileBytes = 1024 * 1024;

    /// <summary>Reads and validates the configuration file at <paramref name="file"/> (at most 1 MiB); relative paths in it resolve against its folder.</summary>
    /// <param name="file">Path to promotion.yaml.</param>
    /// <param name="overrides"><c>--set</c> values by dotted key path (<c>environments.production.tag</c>), applied before validation.</param>
    /// <param name="environment">Environment variables; those starting with <see cref="EnvironmentPrefix"/> are applied as overrides.</param>
    /// <exception cref="PromotionException">The file is missing, too large, not YAML, or fails validation (message names the line and the fix).</exception>
    public static PromotionConfig Load(string file, IReadOnlyDictionary<string, string>? overrides = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        if (!File.Exists(file))
            throw new PromotionException($"configuration file '{file}' does not exist: pass --config=PATH to an existing promotion.yaml");
        if (new FileInfo(file).Length > MaxFileBytes)
            throw new PromotionException($"configuration file '{file}' is over 1 MiB: this is not a promotion configuration");
        return Parse(File.ReadAllText(file), file, Path.GetDirectoryName(Path.GetFullPath(file))!, overrides, environment);
    }

    /// <summary>Parses and validates configuration text, as <see cref="Load"/> does for a file.</summary>
    /// <param name="text">The YAML document.</param>
    /// <param name="file">Name used in messages (<c>file:line: …</c>).</param>
    /// <param name="baseDirectory">Folder that relative paths (build contexts, key files) resolve against.</param>
    /// <param name="overrides"><c>--set</c> values by dotted key path, applied before validation.</param>
    /// <param name="environment">Environment variables; those starting with <see cref="EnvironmentPrefix"/> are applied as overrides.</param>
    /// <exception cref="PromotionException">Not YAML, nested too deep, or fails validation.</exception>
    public static PromotionConfig Parse(string text, string file, string baseDirectory,
        IReadOnlyDictionary<string, string>? overrides = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        CheckNesting(text, file);
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException ex)
        {
            throw new PromotionException($"{file}:{ex.Start.Line}: not valid YAML ({ex.Message.Split('\n')[0]}): fix the syntax");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's parser gives up this way on some unterminated flow collections.
            throw new PromotionException($"{file}: not valid YAML (an unterminated flow collection or quote): fix the syntax");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new PromotionException($"{file}: expected one YAML document holding a mapping (applications or service, registries, environments)");

        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        if (environment is not null)
            foreach (var (k, v) in environment)
                if (k.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && v is not null)
                {
                    var path = k[EnvironmentPrefix.Length..].Replace("__", ".");
                    RefuseProtected(path, $"the environment variable {k}", file);
                    all[path] = v;
                }
        if (overrides is not null)
            foreach (var (k, v) in overrides)
            {
                RefuseProtected(k, $"--set {k}", file);
                all[k] = v;
            }
        foreach (var (path, value) in all) Apply(root, path, value, file);

        return Read(new YamlReader(file, "", root), file, baseDirectory);
    }

    private static PromotionConfig Read(YamlReader r, string file, string baseDirectory)
    {
        var applications = ReadApplications(r, file);

        var registries = new Dictionary<string, RegistrySettings>(StringComparer.Ordinal);
        foreach (var (name, reg) in r.NamedMappings("registries"))
        {
            registries[name] = new RegistrySettings(name, reg.RequiredString("host"), reg.Bool("insecure", false),
                reg.String("caBundle"), reg.String("usernameEnv"), reg.String("passwordEnv"));
            reg.RejectUnknown();
        }
        if (registries.Count == 0) throw r.Missing("registries");

        var environments = new List<EnvironmentSettings>();
        var fromLines = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, env) in r.NamedMappings("environments"))
        {
            var registry = env.RequiredString("registry");
            if (!registries.ContainsKey(registry))
                throw new PromotionException($"{file}:{env.Line}: 'environments.{name}.registry' names '{registry}', which is not under registries (have: {string.Join(", ", registries.Keys)})");
            var from = env.String("from");
            if (from is not null) fromLines[name] = env.Line;
            var settings = new EnvironmentSettings(name, registry, env.RequiredString("repository"), env.RequiredString("tag"), env.Bool("tagMayMove", true))
            {
                // Without from:, an environment follows the one before it in the file, as today's single line of environments does.
                From = from ?? (environments.Count > 0 ? environments[^1].Name : null),
                Group = env.String("group"),
                GitOps = ReadGitOps(env.Mapping("gitops"), file),
                Gates = GateConfigReader.ReadGates(NotBlank(env, "gates",
                    "an empty gates section would switch every gate off: list the gates (README: Gates and evidence), or remove the key for an environment without gates"), name),
                Trust = GateConfigReader.ReadTrust(NotBlank(env, "trust",
                    "an empty trust section trusts no key, so no gate could ever pass: name the public keys per kind of evidence, or remove the key")),
            };
            env.RejectUnknown();
            environments.Add(settings);
        }
        if (environments.Count == 0) throw r.Missing("environments");
        environments = EnvironmentGraph.Order(environments, fromLines, file);

        var policies = new Dictionary<string, GateSettings>(StringComparer.Ordinal);
        foreach (var (name, policy) in r.NamedMappings("policies"))
        {
            if (policy.IsEmpty)
                throw new PromotionException($"{file}:{policy.Line}: '{policy.Here}' is empty: a policy without gates would switch gates off where it applies: list its gates, or remove it");
            policies[name] = GateConfigReader.ReadPolicy(policy, name);
        }
        var apply = new List<PolicyApplication>();
        foreach (var (reader, scalar, line) in r.Items("apply"))
        {
            if (reader is null)
                throw new PromotionException($"{file}:{line}: 'apply' entry '{scalar}' must be a mapping: {{ policy: NAME, applications: [\"*\"], environments: [\"production-*\"] }}");
            var entry = new PolicyApplication(reader.RequiredString("policy"),
                reader.Has("applications") ? reader.StringList("applications") : ["*"], reader.StringList("environments"));
            if (!policies.ContainsKey(entry.Policy))
                throw new PromotionException($"{file}:{line}: '{reader.Here}.policy' names '{entry.Policy}', which is not under policies (have: {string.Join(", ", policies.Keys.DefaultIfEmpty("none"))})");
            if (entry.Environments.Count == 0) throw reader.Missing("environments");
            foreach (var pattern in entry.Applications)
                if (!applications.Any(a => Glob.Matches(pattern, a.Name)))
                    throw new PromotionException($"{file}:{line}: '{reader.Here}.applications' pattern '{pattern}' matches no application (have: {string.Join(", ", applications.Select(a => a.Name))})");
            foreach (var pattern in entry.Environments)
                if (!environments.Any(e => Glob.Matches(pattern, e.Name)))
                    throw new PromotionException($"{file}:{line}: '{reader.Here}.environments' pattern '{pattern}' matches no environment (have: {string.Join(", ", environments.Select(e => e.Name))})");
            reader.RejectUnknown();
            apply.Add(entry);
        }

        var lastGroup = environments[^1].Group ?? environments[^1].Name;
        var rel = r.Mapping("release");
        var release = new ReleaseSettings(rel?.String("environment", lastGroup) ?? lastGroup, rel?.String("tagPrefix", "release-") ?? "release-");
        rel?.RejectUnknown();
        if (environments.All(e => e.Name != release.Environment && e.Group != release.Environment))
            throw new PromotionException($"{file}: 'release.environment' names '{release.Environment}', which is not an environment or group under environments");

        SandboxSettings? sandbox = null;
        if (r.Mapping("sandbox") is { } sb)
        {
            sandbox = new SandboxSettings(sb.String("workDirectory", ".sandbox")!, sb.StringList("registries")) { Keys = sb.String("keys") };
            foreach (var name in sandbox.Registries)
                if (!registries.ContainsKey(name))
                    throw new PromotionException($"{file}: 'sandbox.registries' names '{name}', which is not under registries");
            sb.RejectUnknown();
        }
        var scan = GateConfigReader.ReadScan(r.Mapping("scan"));
        var trust = GateConfigReader.ReadTrust(NotBlank(r, "trust",
            "an empty trust section trusts no key, so no gate could ever pass: name the public keys per kind of evidence, or remove the key"));
        r.RejectUnknown();
        CheckReferences(file, applications, registries, environments);

        return new PromotionConfig
        {
            Source = file, BaseDirectory = baseDirectory, Applications = applications, Registries = registries,
            Environments = environments, Release = release, Sandbox = sandbox, Scan = scan, Trust = trust, Policies = policies, Apply = apply,
            EffectiveGates = EffectiveGates(file, applications, environments, policies, apply),
        };
    }

    /// <summary>
    /// <c>applications:</c> (the model), or today's <c>service:</c> with its <c>build:</c> section, read as one
    /// application holding one image of the same name: the two shapes describe the same thing.
    /// </summary>
    private static List<ApplicationSettings> ReadApplications(YamlReader r, string file)
    {
        if (r.Has("applications"))
        {
            if (r.Has("service") || r.Has("build"))
                throw new PromotionException($"{file}: both 'applications' and 'service'/'build' are set: describe the images under applications.NAME.images and drop service and build");
            var applications = new List<ApplicationSettings>();
            foreach (var (name, app) in r.NamedMappings("applications"))
            {
                var images = new List<ImageSettings>();
                foreach (var (imageName, image) in app.NamedMappings("images"))
                {
                    images.Add(new ImageSettings(imageName, ReadBuild(image, file)));
                    image.RejectUnknown();
                }
                if (images.Count == 0) throw app.Missing("images");
                app.RejectUnknown();
                applications.Add(new ApplicationSettings(name, images));
            }
            if (applications.Count == 0) throw r.Missing("applications");
            return applications;
        }
        var service = r.RequiredString("service");
        var b = r.Mapping("build");
        var build = b is null ? new BuildSettings(".", "Containerfile", "auto", "") : ReadBuild(b, file);
        b?.RejectUnknown();
        return [new ApplicationSettings(service, [new ImageSettings(service, build)])];
    }

    private static BuildSettings ReadBuild(YamlReader b, string file)
    {
        var build = new BuildSettings(b.String("context", ".")!, b.String("containerfile", "Containerfile")!, b.String("builder", "auto")!, b.String("platform", "")!);
        if (build.Builder is not ("auto" or "buildah" or "docker"))
            throw new PromotionException($"{file}:{b.Line}: '{b.PathOf("builder")}' is '{build.Builder}': use auto, buildah or docker");
        return build;
    }

    /// <summary>Every application × image × environment makes an image reference, and two images of one application never share one.</summary>
    private static void CheckReferences(string file, IReadOnlyList<ApplicationSettings> applications,
        IReadOnlyDictionary<string, RegistrySettings> registries, IReadOnlyList<EnvironmentSettings> environments)
    {
        foreach (var e in environments)
        foreach (var app in applications)
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var image in app.Images)
            {
                var text = Templates.Expand($"{registries[e.Registry].Host}/{e.Repository}:{e.Tag}", "commit", app.Name, image.Name);
                try { ImagePromotion.Registry.ImageReference.Parse(text); }
                catch (PromotionException ex)
                {
                    throw new PromotionException($"{file}: 'environments.{e.Name}' (registry '{e.Registry}', repository, tag) does not make an image reference: {ex.Message}");
                }
                if (seen.TryGetValue(text, out var other))
                    throw new PromotionException($"{file}: 'environments.{e.Name}.repository' gives images '{other}' and '{image.Name}' of application '{app.Name}' the same reference {text}: put {{image}} in the repository (e.g. team/{{image}})");
                seen[text] = image.Name;
            }
            if (e.GitOps is { } g && app.Images.Count > 1 && !new[] { g.Container, g.Path }.Concat(g.Manifests).Any(t => t?.Contains("{image}", StringComparison.Ordinal) == true) && (g.Container is not null || g.Path is not null))
                throw new PromotionException($"{file}: 'environments.{e.Name}.gitops' would set every image of application '{app.Name}' into the same place: put {{image}} in container, path or manifests (e.g. container: \"{{image}}\")");
        }
    }

    /// <summary>
    /// The gates of every application × environment: the environment's own section merged with the one policy that
    /// <c>apply:</c> attaches (Devtron applies one policy per pair: two would leave the reader guessing which wins).
    /// </summary>
    private static Dictionary<(string, string), GateSettings> EffectiveGates(string file, IReadOnlyList<ApplicationSettings> applications,
        IReadOnlyList<EnvironmentSettings> environments, IReadOnlyDictionary<string, GateSettings> policies, IReadOnlyList<PolicyApplication> apply)
    {
        var result = new Dictionary<(string, string), GateSettings>();
        foreach (var app in applications)
        foreach (var env in environments)
        {
            var applied = apply.Where(a => a.Covers(app.Name, env.Name)).Select(a => a.Policy).Distinct().ToArray();
            if (applied.Length > 1)
                throw new PromotionException($"{file}: policies {string.Join(" and ", applied)} both apply to application '{app.Name}' in environment '{env.Name}': narrow the apply patterns so one policy applies");
            var own = env.Gates is { } g ? g with { Origin = $"environments.{env.Name}.gates" } : null;
            var policy = applied.Length == 1 ? policies[applied[0]] with { Origin = $"policies.{applied[0]}" } : null;
            var gates = own is null ? policy : policy is null ? own : own.Merge(policy, file);
            if (gates is not null) result[(app.Name, env.Name)] = gates;
        }
        return result;
    }

    private static GitOpsSettings? ReadGitOps(YamlReader? g, string file)
    {
        if (g is null) return null;
        GitHubSettings? github = null;
        if (g.Mapping("github") is { } gh)
        {
            github = new GitHubSettings(gh.RequiredString("owner"), gh.RequiredString("repository"),
                gh.String("baseUrl", "https://api.github.com")!, gh.String("tokenEnv", "GITOPS_TOKEN")!,
                gh.Bool("autoMerge", false), gh.String("mergeMethod", "squash")!)
            {
                Labels = gh.StringList("labels"), Reviewers = gh.StringList("reviewers"), Assignees = gh.StringList("assignees"),
            };
            if (github.MergeMethod is not ("merge" or "squash" or "rebase"))
                throw new PromotionException($"{file}: 'gitops.github.mergeMethod' is '{github.MergeMethod}': use merge, squash or rebase");
            gh.RejectUnknown();
        }
        var settings = new GitOpsSettings
        {
            Repository = g.RequiredString("repository"),
            BaseBranch = g.String("baseBranch", "main")!,
            Manifests = g.StringList("manifests") is { Count: > 0 } m ? m : throw g.Missing("manifests"),
            Container = g.String("container"),
            Path = g.String("path"),
            Mode = g.String("mode", "pull-request")!,
            PinDigest = g.Bool("pinDigest", true),
            GitHub = github,
        };
        if (settings.Mode is not ("pull-request" or "direct"))
            throw new PromotionException($"{file}: 'gitops.mode' is '{settings.Mode}': use pull-request or direct");
        g.RejectUnknown();
        return settings;
    }

    /// <summary>The section, or null when absent; an error naming the file and key when it is written but empty.</summary>
    private static YamlReader? NotBlank(YamlReader parent, string key, string why) => parent.IsBlank(key)
        ? throw new PromotionException($"{parent.FileName}:{parent.Line}: '{parent.PathOf(key)}' is empty: {why}")
        : parent.Mapping(key);

    private const int MaxFlowNesting = 64;

    /// <summary>
    /// YamlDotNet's scanner recurses per flow level: a file of 200 000 '[' overflows the stack, which no
    /// handler can catch. A configuration is a few levels deep, so deeper flow nesting is refused before parsing.
    /// Brackets inside quotes and comments are skipped; the scan errs towards letting text through.
    /// </summary>
    private static void CheckNesting(string text, string file)
    {
        int depth = 0, line = 1;
        var quote = '\0';
        var comment = false;
        var previous = '\n';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n') { line++; comment = false; }
            if (comment) { previous = c; continue; }
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"') i++;
                else if (c == quote) quote = '\0';
            }
            else if (c == '#' && char.IsWhiteSpace(previous)) comment = true;
            else if (c is '"' or '\'' && (char.IsWhiteSpace(previous) || previous is ':' or '[' or '{' or ',' or '-')) quote = c;
            else if (c is '[' or '{' && ++depth > MaxFlowNesting)
                throw new PromotionException($"{file}:{line}: lists or mappings nested more than {MaxFlowNesting} levels deep: this is not a promotion configuration");
            else if (c is ']' or '}' && depth > 0) depth--;
            previous = c;
        }
    }

    /// <summary>
    /// The settings that decide what a promotion must prove: gates (an environment's and the policies), trust, and how a
    /// scan is judged. They come from the reviewed file only: any earlier step of a CI job can set a variable
    /// (<c>$GITHUB_ENV</c>) or add an argument, so an override there would let the job that is judged switch the judge off.
    /// </summary>
    private static readonly (string[] Pattern, string What)[] Protected =
    [
        (["environments", "*", "gates"], "gate settings"),
        (["environments", "*", "trust"], "trusted keys"),
        (["trust"], "trusted keys"),
        (["policies"], "gate policies"),
        (["apply"], "where gate policies apply"),
        (["scan", "rules"], "scan rules"),
        (["scan", "thresholds"], "scan thresholds"),
        (["scan", "allowlist"], "the scan allowlist"),
        (["scan", "scanners"], "the required scanners"),
    ];

    private static void RefuseProtected(string path, string source, string file)
    {
        var parts = path.Split('.', StringSplitOptions.RemoveEmptyEntries);
        foreach (var (pattern, what) in Protected)
        {
            // A shorter override (environments.production = "") would replace the whole protected section too.
            var n = Math.Min(pattern.Length, parts.Length);
            if (n == 0 || !pattern.Take(n).Zip(parts.Take(n)).All(p => p.First == "*" || p.First == p.Second)) continue;
            var shown = string.Join('.', pattern.Select((p, i) => p == "*" && i < parts.Length ? parts[i] : p));
            throw new PromotionException($"{source}: {what} ({shown}) cannot be overridden from the command line or the environment: {file} is the reviewed source of truth; change it there in a reviewed commit");
        }
    }

    /// <summary>Sets a dotted path in the YAML tree, creating mappings on the way.</summary>
    private static void Apply(YamlMappingNode root, string path, string value, string file)
    {
        var parts = path.Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new PromotionException($"override '{path}' has no key: use --set section.key=value");
        var node = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var key = new YamlScalarNode(parts[i]);
            if (!node.Children.TryGetValue(key, out var child))
            {
                child = new YamlMappingNode();
                node.Children[key] = child;
            }
            node = child as YamlMappingNode
                ?? throw new PromotionException($"override '{path}': '{string.Join('.', parts[..(i + 1)])}' in {file} is not a mapping");
        }
        node.Children[new YamlScalarNode(parts[^1])] = new YamlScalarNode(value);
    }
}
