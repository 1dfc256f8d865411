using ImagePromotion.GitOps.Manifests;
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
        var info = new FileInfo(file);
        // A device or a pipe reports no length, and opening a FIFO blocks until a writer comes: neither is opened.
        // An empty regular file is refused here too; it holds no configuration either.
        if (info.Length == 0)
            throw new PromotionException($"configuration file '{file}' is empty or not a regular file (a device or a pipe): pass --config=PATH to a promotion.yaml file");
        if (info.Length > MaxFileBytes)
            throw new PromotionException($"configuration file '{file}' is over 1 MiB: this is not a promotion configuration");
        return Parse(ReadBounded(file), file, Path.GetDirectoryName(Path.GetFullPath(file))!, overrides, environment);
    }

    /// <summary>The file's text, read no further than the limit: a file that grows while it is read (or lies about its size) is refused.</summary>
    private static string ReadBounded(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[MaxFileBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0) total += read;
        if (total > MaxFileBytes)
            throw new PromotionException($"configuration file '{file}' is over 1 MiB: this is not a promotion configuration");
        return new System.Text.UTF8Encoding(false).GetString(buffer, 0, total).TrimStart('\uFEFF');
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

        // Variables first, then --set, so a --set wins; each remembers how the user wrote it, for its messages.
        var all = new Dictionary<string, (string Value, string Origin)>(StringComparer.Ordinal);
        if (environment is not null)
            foreach (var (k, v) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
                if (k.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && v is not null)
                {
                    var path = k[EnvironmentPrefix.Length..].Replace("__", ".");
                    RefuseProtected(path, $"the environment variable {k}", file);
                    all[path] = (v, $"variable {k}");
                }
        if (overrides is not null)
            foreach (var (k, v) in overrides)
            {
                RefuseProtected(k, $"--set {k}", file);
                all[k] = (v, $"--set {k}={v}");
            }
        var problems = new ConfigProblems(file);
        foreach (var (path, (value, origin)) in all) Apply(root, path, value, file, origin, problems);

        var config = Read(new YamlReader(problems, "", root), file, baseDirectory);
        problems.ThrowIfAny();
        return config!;
    }

    /// <summary>
    /// Reads the tree into the typed configuration. Each independent part (an application, a registry, an
    /// environment, a policy, a section) is read on its own, so every problem is found in one run; the checks
    /// across parts run on the names that were declared, and those that need every part whole run only when
    /// each part could be read. Returns null when a problem was recorded (the caller throws them all).
    /// </summary>
    private static PromotionConfig? Read(YamlReader r, string file, string baseDirectory)
    {
        var problems = r.Problems;
        var applications = problems.Try(() => ReadApplications(r, file)) ?? [];
        var applicationNames = DeclaredNames(r, "applications") is { Count: > 0 } declared ? declared : applications.Select(a => a.Name).ToList();

        var registries = new Dictionary<string, RegistrySettings>(StringComparer.Ordinal);
        var registryNames = new List<string>();
        var before = problems.Count;
        foreach (var (name, reg) in problems.Each(r.NamedMappings("registries")))
        {
            registryNames.Add(name);
            problems.Try(() =>
            {
                registries[name] = new RegistrySettings(name, reg.RequiredString("host"), reg.Bool("insecure", false),
                    reg.String("caBundle"), reg.String("usernameEnv"), reg.String("passwordEnv"))
                {
                    Family = RegistryFamily(reg),
                    Timeout = RegistryTimeout(reg),
                };
            });
            reg.RejectUnknown("host", "insecure", "caBundle", "usernameEnv", "passwordEnv", "family", "timeout");
        }
        if (registryNames.Count == 0 && problems.Count == before) problems.Add(r.Missing("registries").Message);

        var environments = new List<EnvironmentSettings>();
        var environmentNames = new List<string>();
        var fromLines = new Dictionary<string, int>(StringComparer.Ordinal);
        before = problems.Count;
        foreach (var (name, env) in problems.Each(r.NamedMappings("environments")))
        {
            environmentNames.Add(name);
            problems.Try(() =>
            {
                var registry = env.RequiredString("registry");
                if (!registryNames.Contains(registry))
                    throw new PromotionException($"{env.Where("registry")}: 'environments.{name}.registry' names '{registry}', which is not under registries{ImagePromotion.CommandLine.Suggestions.DidYouMean(registry, registryNames)} (have: {string.Join(", ", registryNames)})");
                var from = env.String("from");
                if (from is not null) fromLines[name] = env.Line;
                var settings = new EnvironmentSettings(name, registry, env.RequiredString("repository"), env.RequiredString("tag"), env.Bool("tagMayMove", true))
                {
                    // Without from:, an environment follows the one before it in the file, as today's single line of environments does.
                    From = from ?? (environmentNames.Count > 1 ? environmentNames[^2] : null),
                    Group = env.String("group"),
                    GitOps = ReadGitOps(env.Mapping("gitops"), file),
                    Gates = GateConfigReader.ReadGates(NotBlank(env, "gates",
                        "an empty gates section would switch every gate off: list the gates (README: Gates and evidence), or remove the key for an environment without gates"), name),
                    Trust = GateConfigReader.ReadTrust(NotBlank(env, "trust",
                        "an empty trust section trusts no key, so no gate could ever pass: name the public keys per kind of evidence, or remove the key")),
                };
                environments.Add(settings);
            });
            env.RejectUnknown("registry", "repository", "tag", "tagMayMove", "from", "group", "gitops", "gates", "trust");
        }
        if (environmentNames.Count == 0 && problems.Count == before) problems.Add(r.Missing("environments").Message);
        var wholeEnvironments = environments.Count == environmentNames.Count && environments.Count > 0;
        if (wholeEnvironments) environments = problems.Try(() => EnvironmentGraph.Order(environments, fromLines, file)) ?? environments;

        var policies = new Dictionary<string, GateSettings>(StringComparer.Ordinal);
        foreach (var (name, policy) in problems.Each(r.NamedMappings("policies")))
            problems.Try(() =>
            {
                if (policy.IsEmpty)
                    throw new PromotionException($"{file}:{policy.Line}: '{policy.Here}' is empty: a policy without gates would switch gates off where it applies: list its gates, or remove it");
                policies[name] = GateConfigReader.ReadPolicy(policy, name);
            });
        var policyNames = DeclaredNames(r, "policies");
        var apply = new List<PolicyApplication>();
        foreach (var (reader, scalar, line) in problems.Each(r.Items("apply")))
        {
            problems.Try(() =>
            {
                if (reader is null)
                    throw new PromotionException($"{file}:{line}: 'apply' entry '{scalar}' must be a mapping: {{ policy: NAME, applications: [\"*\"], environments: [\"production-*\"] }}");
                var entry = new PolicyApplication(reader.RequiredString("policy"),
                    reader.Has("applications") ? reader.StringList("applications") : ["*"], reader.StringList("environments"));
                reader.RejectUnknown();
                if (!policyNames.Contains(entry.Policy))
                    throw new PromotionException($"{file}:{line}: '{reader.Here}.policy' names '{entry.Policy}', which is not under policies (have: {string.Join(", ", policyNames.DefaultIfEmpty("none"))})");
                if (entry.Environments.Count == 0) throw reader.Missing("environments");
                foreach (var pattern in entry.Applications)
                    if (!applicationNames.Any(a => Glob.Matches(pattern, a)))
                        throw new PromotionException($"{file}:{line}: '{reader.Here}.applications' pattern '{pattern}' matches no application (have: {string.Join(", ", applicationNames)})");
                foreach (var pattern in entry.Environments)
                    if (!environmentNames.Any(e => Glob.Matches(pattern, e)))
                        throw new PromotionException($"{file}:{line}: '{reader.Here}.environments' pattern '{pattern}' matches no environment (have: {string.Join(", ", environmentNames)})");
                apply.Add(entry);
            });
        }

        var release = problems.Try(() =>
        {
            var lastGroup = environments.Count > 0 ? environments[^1].Group ?? environments[^1].Name : "";
            var rel = r.Mapping("release");
            var settings = new ReleaseSettings(rel?.String("environment", lastGroup) ?? lastGroup, rel?.String("tagPrefix", "release-") ?? "release-");
            rel?.RejectUnknown();
            if (wholeEnvironments && environments.All(e => e.Name != settings.Environment && e.Group != settings.Environment))
                throw new PromotionException($"{file}: 'release.environment' names '{settings.Environment}', which is not an environment or group under environments");
            return settings;
        });

        var sandbox = problems.Try(() =>
        {
            if (r.Mapping("sandbox") is not { } sb) return null;
            var settings = new SandboxSettings(sb.String("workDirectory", ".sandbox")!, sb.StringList("registries")) { Keys = sb.String("keys") };
            sb.RejectUnknown();
            foreach (var name in settings.Registries)
                if (!registryNames.Contains(name))
                    throw new PromotionException($"{file}: 'sandbox.registries' names '{name}', which is not under registries");
            return settings;
        });
        var scan = problems.Try(() => GateConfigReader.ReadScan(r.Mapping("scan")));
        var trust = problems.Try(() => GateConfigReader.ReadTrust(NotBlank(r, "trust",
            "an empty trust section trusts no key, so no gate could ever pass: name the public keys per kind of evidence, or remove the key")));
        // The keys a part stopped before reading are still known: only a typo is reported as unknown.
        r.RejectUnknown("service", "build", "applications", "registries", "environments", "policies", "apply", "release", "sandbox", "scan", "trust");
        // The checks that need every part whole; with a part missing they would only repeat its problem.
        if (problems.Count > 0) return null;
        CheckReferences(file, applications, registries, environments);

        return new PromotionConfig
        {
            Source = file, BaseDirectory = baseDirectory, Applications = applications, Registries = registries,
            Environments = environments, Release = release!, Sandbox = sandbox, Scan = scan, Trust = trust, Policies = policies, Apply = apply,
            EffectiveGates = EffectiveGates(file, applications, environments, policies, apply),
        };
    }

    /// <summary>The names declared under <paramref name="key"/> (a mapping of user-chosen names), whether or not their settings could be read.</summary>
    private static List<string> DeclaredNames(YamlReader r, string key)
    {
        var names = new List<string>();
        try { foreach (var (name, _) in r.NamedMappings(key)) names.Add(name); }
        catch (PromotionException) { } // reported where the section itself is read
        return names;
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
            var before = r.Problems.Count;
            foreach (var (name, app) in r.Problems.Each(r.NamedMappings("applications")))
            {
                r.Problems.Try(() =>
                {
                    var images = new List<ImageSettings>();
                    foreach (var (imageName, image) in app.NamedMappings("images"))
                    {
                        images.Add(new ImageSettings(imageName, ReadBuild(image, file)));
                        image.RejectUnknown();
                    }
                    if (images.Count == 0) throw app.Missing("images");
                    applications.Add(new ApplicationSettings(name, images));
                });
                app.RejectUnknown("images");
            }
            if (applications.Count == 0 && r.Problems.Count == before) throw r.Missing("applications");
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
                if (e.GitOps is { } g && app.Images.Count > 1
                    && !new[] { g.Container, g.Path, g.Helm?.Image, g.Helm?.RepositoryKey }.Concat(g.Manifests).Any(t => t?.Contains("{image}", StringComparison.Ordinal) == true)
                    && (g.Container is not null || g.Path is not null || g.Helm is not null))
                    throw new PromotionException($"{file}: 'environments.{e.Name}.gitops' would set every image of application '{app.Name}' into the same place: put {{image}} in container, path, helm or manifests (e.g. container: \"{{image}}\", helm: \"{{image}}.image\")");
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
            Helm = ReadHelm(g),
            Mode = g.String("mode", "pull-request")!,
            PinDigest = g.Bool("pinDigest", true),
            GitHub = github,
        };
        if (settings.Mode is not ("pull-request" or "direct"))
            throw new PromotionException($"{file}: 'gitops.mode' is '{settings.Mode}': use pull-request or direct");
        if (settings.Helm is not null && (settings.Container ?? settings.Path) is { } other)
            throw new PromotionException($"{file}: '{g.PathOf("helm")}' and '{g.PathOf(settings.Container is not null ? "container" : "path")}' ({other}) both say where the image goes: keep one");
        g.RejectUnknown();
        return settings;
    }

    /// <summary>
    /// <c>helm:</c> as UpdateManifest's <c>--helm</c> says it: <c>true</c> (the layout under <c>image</c>), the image
    /// mapping's dotted path (<c>helm: api.image</c>), or a mapping of <c>image</c>, <c>registry</c>, <c>repository</c>,
    /// <c>tag</c>, <c>digest</c> (dotted keys from the root) and <c>digestInTag</c>.
    /// </summary>
    private static HelmValuesTarget? ReadHelm(YamlReader g)
    {
        if (!g.Has("helm")) return null;
        if (!g.IsMapping("helm"))
            return g.String("helm") switch
            {
                "true" => new HelmValuesTarget(),
                "false" => null,
                _ => new HelmValuesTarget { Image = HelmKey(g, "helm", "api.image")! },
            };
        var h = g.Mapping("helm")!;
        var target = new HelmValuesTarget(HelmKey(h, "repository", "api.image.repository"), HelmKey(h, "tag", "api.image.tag"),
            HelmKey(h, "digest", "api.image.digest"), HelmKey(h, "registry", "global.imageRegistry"), h.Bool("digestInTag", false))
        {
            Image = HelmKey(h, "image", "api.image") ?? "image",
        };
        h.RejectUnknown();
        return target;
    }

    /// <summary>A dotted key of a values file (placeholders allowed), checked by the same parser the edit uses.</summary>
    private static string? HelmKey(YamlReader reader, string key, string example)
    {
        var value = reader.String(key);
        if (value is null) return null;
        try { YamlPath.Parse(Templates.Expand(value, "commit", "application", "image")); }
        catch (PromotionException)
        {
            throw new PromotionException($"{reader.FileName}: '{reader.PathOf(key)}' is '{value}', which is not a dotted key of a values file: write e.g. {example}");
        }
        return value;
    }

    /// <summary>The section, or null when absent; an error naming the file and key when it is written but empty.</summary>
    private static YamlReader? NotBlank(YamlReader parent, string key, string why) => parent.IsBlank(key)
        ? throw new PromotionException($"{parent.Where(key)}: '{parent.PathOf(key)}' is empty: {why}")
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

    /// <summary>
    /// Sets a dotted path in the YAML tree, creating mappings on the way; every node it makes is marked with
    /// <paramref name="origin"/>, so a typo in an override is reported as that override, not as a line of the file.
    /// </summary>
    private static void Apply(YamlMappingNode root, string path, string value, string file, string origin, ConfigProblems problems)
    {
        var parts = path.Split('.', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new PromotionException($"{origin}: the override has no key: use --set section.key=value");
        var node = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var key = new YamlScalarNode(parts[i]);
            if (!node.Children.TryGetValue(key, out var child))
            {
                child = new YamlMappingNode();
                node.Children[key] = child;
                problems.MarkOverride(key, origin);
                problems.MarkOverride(child, origin);
            }
            node = child as YamlMappingNode
                ?? throw new PromotionException($"{origin}: '{string.Join('.', parts[..(i + 1)])}' in {file} is not a mapping, so it has no key '{parts[i + 1]}': check the path");
        }
        var last = new YamlScalarNode(parts[^1]);
        var replaced = node.Children.ContainsKey(last);
        var scalar = new YamlScalarNode(value);
        node.Children[last] = scalar;
        // A new key is the override's spelling; a replaced key is the file's, and only the value is the override's.
        if (!replaced) problems.MarkOverride(last, origin);
        problems.MarkOverride(scalar, origin);
    }

    /// <summary><c>registries.NAME.family</c>: one of the profile table's families, for a self-hosted registry its host name cannot tell.</summary>
    private static string? RegistryFamily(YamlReader reg)
    {
        var family = reg.String("family");
        if (family is null || Registry.Profiles.RegistryProfiles.ByName(family) is not null) return family;
        throw new PromotionException($"{reg.Where("family")}: '{reg.PathOf("family")}' is '{family}', not a registry family: use one of {string.Join(", ", Registry.Profiles.RegistryProfiles.All.Select(p => p.Family))}");
    }

    /// <summary><c>registries.NAME.timeout</c>: how long one request to the registry waits for an answer (default 120 s).</summary>
    private static TimeSpan? RegistryTimeout(YamlReader reg)
    {
        var text = reg.String("timeout");
        if (text is null) return null;
        return Durations.TryParse(text, out var d) && d > TimeSpan.Zero ? d
            : throw new PromotionException($"{reg.Where("timeout")}: '{reg.PathOf("timeout")}' is '{text}': write a duration above zero such as 30s or 2m");
    }

}
