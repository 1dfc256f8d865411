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
    public const string EnvironmentPrefix = "PROMOTION__";
    private const long MaxFileBytes = 1024 * 1024;

    public static PromotionConfig Load(string file, IReadOnlyDictionary<string, string>? overrides = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        if (!File.Exists(file))
            throw new PromotionException($"configuration file '{file}' does not exist: pass --config=PATH to an existing promotion.yaml");
        if (new FileInfo(file).Length > MaxFileBytes)
            throw new PromotionException($"configuration file '{file}' is over 1 MiB: this is not a promotion configuration");
        return Parse(File.ReadAllText(file), file, Path.GetDirectoryName(Path.GetFullPath(file))!, overrides, environment);
    }

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
            throw new PromotionException($"{file}: expected one YAML document holding a mapping (service, registries, environments)");

        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        if (environment is not null)
            foreach (var (k, v) in environment)
                if (k.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && v is not null)
                    all[k[EnvironmentPrefix.Length..].Replace("__", ".")] = v;
        if (overrides is not null) foreach (var (k, v) in overrides) all[k] = v;
        foreach (var (path, value) in all) Apply(root, path, value, file);

        return Read(new YamlReader(file, "", root), file, baseDirectory);
    }

    private static PromotionConfig Read(YamlReader r, string file, string baseDirectory)
    {
        var service = r.RequiredString("service");
        var b = r.Mapping("build");
        var build = new BuildSettings(
            b?.String("context", ".") ?? ".",
            b?.String("containerfile", "Containerfile") ?? "Containerfile",
            b?.String("builder", "auto") ?? "auto",
            b?.String("platform", "") ?? "");
        if (build.Builder is not ("auto" or "buildah" or "docker"))
            throw new PromotionException($"{file}: 'build.builder' is '{build.Builder}': use auto, buildah or docker");
        b?.RejectUnknown();

        var registries = new Dictionary<string, RegistrySettings>(StringComparer.Ordinal);
        foreach (var (name, reg) in r.NamedMappings("registries"))
        {
            registries[name] = new RegistrySettings(name, reg.RequiredString("host"), reg.Bool("insecure", false),
                reg.String("caBundle"), reg.String("usernameEnv"), reg.String("passwordEnv"));
            reg.RejectUnknown();
        }
        if (registries.Count == 0) throw r.Missing("registries");

        var environments = new List<EnvironmentSettings>();
        foreach (var (name, env) in r.NamedMappings("environments"))
        {
            var registry = env.RequiredString("registry");
            if (!registries.ContainsKey(registry))
                throw new PromotionException($"{file}:{env.Line}: 'environments.{name}.registry' names '{registry}', which is not under registries (have: {string.Join(", ", registries.Keys)})");
            var settings = new EnvironmentSettings(name, registry, env.RequiredString("repository"), env.RequiredString("tag"), env.Bool("tagMayMove", true))
            {
                GitOps = ReadGitOps(env.Mapping("gitops"), file),
                Gates = GateConfigReader.ReadGates(env.Mapping("gates"), name),
            };
            env.RejectUnknown();
            environments.Add(settings);
        }
        if (environments.Count == 0) throw r.Missing("environments");

        var rel = r.Mapping("release");
        var release = new ReleaseSettings(rel?.String("environment", environments[^1].Name) ?? environments[^1].Name,
            rel?.String("tagPrefix", "release-") ?? "release-");
        rel?.RejectUnknown();
        if (environments.All(e => e.Name != release.Environment))
            throw new PromotionException($"{file}: 'release.environment' names '{release.Environment}', which is not under environments");

        SandboxSettings? sandbox = null;
        if (r.Mapping("sandbox") is { } sb)
        {
            sandbox = new SandboxSettings(sb.String("workDirectory", ".sandbox")!, sb.StringList("registries"));
            foreach (var name in sandbox.Registries)
                if (!registries.ContainsKey(name))
                    throw new PromotionException($"{file}: 'sandbox.registries' names '{name}', which is not under registries");
            sb.RejectUnknown();
        }
        var scan = GateConfigReader.ReadScan(r.Mapping("scan"));
        r.RejectUnknown();
        foreach (var e in environments)
        {
            try { ImagePromotion.Registry.ImageReference.Parse($"{registries[e.Registry].Host}/{e.Repository}:{e.Tag.Replace("{commit}", "commit")}"); }
            catch (PromotionException ex)
            {
                throw new PromotionException($"{file}: 'environments.{e.Name}' (registry '{e.Registry}', repository, tag) does not make an image reference: {ex.Message}");
            }
        }

        return new PromotionConfig
        {
            Source = file, BaseDirectory = baseDirectory, Service = service, Build = build, Registries = registries,
            Environments = environments, Release = release, Sandbox = sandbox, Scan = scan,
        };
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
