namespace ImagePromotion.GitOps.Manifests;

/// <summary>Where in a manifest file the promoted image is written.</summary>
public abstract record ManifestTarget;

/// <summary>
/// A container of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod, also inside
/// a <c>kind: List</c>), in <c>containers</c> or <c>initContainers</c>. Without a container name the container
/// whose current image has the same repository as the new image is chosen (<c>nginx</c> matches
/// <c>docker.io/library/nginx</c>). Several matches are an error unless <paramref name="AllMatches"/> is set.
/// </summary>
public sealed record ContainerImageTarget(
    string? ContainerName = null,
    string? WorkloadName = null,
    string? Kind = null,
    bool AllMatches = false) : ManifestTarget;

/// <summary>
/// A Kustomize <c>images:</c> entry. <paramref name="Name"/> is the entry's <c>name</c> (the image as the
/// base manifests spell it); without it the entry whose name or newName has the new image's repository is
/// used. A missing entry is added.
/// </summary>
public sealed record KustomizeImageTarget(string? Name = null) : ManifestTarget;

/// <summary>
/// The image keys of a Helm values file. By default they are found under the mapping <see cref="Image"/>
/// (<c>image</c>; any dotted path such as <c>api.image</c>): <c>registry</c> when present (Bitnami: the host goes
/// there and only the path to <c>repository</c>), <c>repository</c> (or <c>name</c>), <c>tag</c>, and <c>digest</c>
/// when present; a plain string at <see cref="Image"/> takes the whole reference. A key given here (a dotted
/// path from the root, e.g. <c>global.imageRegistry</c>) replaces the one found. <paramref name="DigestInTag"/>
/// writes <c>tag@sha256:…</c> into the tag key for charts that have no digest value.
/// </summary>
public sealed record HelmValuesTarget(
    string? RepositoryKey = null,
    string? TagKey = null,
    string? DigestKey = null,
    string? RegistryKey = null,
    bool DigestInTag = false) : ManifestTarget
{
    /// <summary>The mapping (or string) that holds the image, as a dotted path: <c>image</c>, <c>api.image</c>.</summary>
    public string Image { get; init; } = "image";

    /// <summary>
    /// Reads the value of a <c>--helm</c> argument: empty (or <c>true</c>) for the defaults, a path for the image
    /// mapping (<c>--helm=api.image</c>), or <c>name=KEY</c> pairs separated by commas with the names
    /// <c>image</c>, <c>registry</c>, <c>repository</c>, <c>tag</c>, <c>digest</c> and <c>digestInTag</c>
    /// (<c>--helm=registry=global.imageRegistry,repository=api.image.repository,tag=api.image.tag</c>).
    /// </summary>
    /// <exception cref="PromotionException">An unknown name or an empty value, naming it.</exception>
    public static HelmValuesTarget Parse(string? argument)
    {
        var text = argument?.Trim() ?? "";
        if (text.Length == 0 || text.Equals("true", StringComparison.OrdinalIgnoreCase)) return new HelmValuesTarget();
        if (!text.Contains('=')) return new HelmValuesTarget { Image = Checked(text, "image") };
        var target = new HelmValuesTarget();
        foreach (var pair in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var (name, value) = eq < 0 ? (pair, "") : (pair[..eq].Trim(), pair[(eq + 1)..].Trim());
            target = name.ToLowerInvariant() switch
            {
                "image" => target with { Image = Checked(value, name) },
                "registry" => target with { RegistryKey = Checked(value, name) },
                "repository" or "name" => target with { RepositoryKey = Checked(value, name) },
                "tag" => target with { TagKey = Checked(value, name) },
                "digest" => target with { DigestKey = Checked(value, name) },
                "digestintag" => target with
                {
                    DigestInTag = value.ToLowerInvariant() switch
                    {
                        "" or "true" => true,
                        "false" => false,
                        _ => throw new PromotionException($"--helm: digestInTag takes true or false, not '{value}'"),
                    }
                },
                _ => throw new PromotionException($"--helm: unknown key name '{name}' in '{text}'; use image, registry, repository, tag, digest or digestInTag (e.g. --helm=registry=api.image.registry,repository=api.image.repository,tag=api.image.tag)"),
            };
        }
        return target;
    }

    private static string Checked(string value, string name)
    {
        if (value.Length == 0)
            throw new PromotionException($"--helm: '{name}' needs a value (a dotted key such as api.image.{(name == "image" ? "repository" : name)}; digestInTag takes true or false)");
        YamlPath.Parse(value);
        return value;
    }
}

/// <summary>
/// An explicit yq-style path whose scalar receives the whole image reference, e.g.
/// <c>.spec.template.spec.containers[0].image</c> or <c>.spec.template.spec.containers[name=web].image</c>.
/// In a multi-document file the path must exist in exactly one document unless <paramref name="Document"/>
/// (0-based) says which.
/// </summary>
public sealed record YamlPathTarget(string Path, int? Document = null) : ManifestTarget;
