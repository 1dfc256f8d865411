namespace ImagePromotion.GitOps.Manifests;

/// <summary>
/// Writes an image into the keys a Helm chart reads it from. The layouts charts use are found under the
/// image mapping (<see cref="HelmValuesTarget.Image"/>, <c>image</c> by default, nested anywhere):
/// <c>repository</c>/<c>tag</c>[/<c>digest</c>] (helm create), Bitnami's <c>registry</c>/<c>repository</c>/<c>tag</c>/<c>digest</c>
/// (the template renders <c>registry/repository:tag</c>, so the host goes to <c>registry</c> only),
/// <c>name</c>/<c>tag</c>, or a single string holding the whole reference. Explicit keys override what is found.
/// </summary>
internal static class HelmValues
{
    public static EditPlan Plan(EditContext context, HelmValuesTarget target)
    {
        var document = context.Documents.FirstOrDefault(d => d.Root is not null)
            ?? throw new PromotionException($"{context.File}: the values file is empty; add the image keys ({target.Image}.repository, {target.Image}.tag)");
        var image = context.Image;
        var prefix = YamlPath.Parse(target.Image);
        var explicitKeys = target.RepositoryKey ?? target.TagKey ?? target.DigestKey ?? target.RegistryKey;
        LocatedNode? Find(YamlPath path) => context.Locate(document.Index, path);
        YamlPath Under(string key) => prefix.Append(new KeySegment(key));

        // `image: ghcr.io/acme/app:1.2` – some charts take the whole reference in one value.
        if (explicitKeys is null && Find(prefix) is { Node: var whole } located && whole.Deref() is SourceScalar wholeValue)
            return new EditPlan([context.SetScalar(document.Index, located, located.Path.ToString(), image.Text)], [], [wholeValue.Value]);

        var repositoryPath = target.RepositoryKey is { } r ? YamlPath.Parse(r)
            : Find(Under("repository")) is null && Find(Under("name")) is not null ? Under("name") : Under("repository");
        var repository = Required(context, document, repositoryPath, "RepositoryKey", "repository");
        var registryPath = target.RegistryKey is { } g ? YamlPath.Parse(g) : Find(Under("registry")) is not null ? Under("registry") : null;
        var registry = registryPath is null ? null : Required(context, document, registryPath, "RegistryKey", "registry");
        var tagPath = YamlPath.Parse(target.TagKey ?? target.Image + ".tag");
        var digestPath = YamlPath.Parse(target.DigestKey ?? target.Image + ".digest");
        var digest = Find(digestPath);
        var tag = Find(tagPath);
        var pinned = Pinned(registry, repository, tag, digest);

        var changes = new List<PlannedChange>();
        void Set(LocatedNode node, string value) => changes.Add(context.SetScalar(document.Index, node, node.Path.ToString(), value));

        var registryValue = registry is null ? "" : ValueOf(registry.Node);
        var current = registryValue.Length > 0 ? registryValue + "/" + ValueOf(repository.Node) : ValueOf(repository.Node);
        if (!image.SameRepository(current))
        {
            // An empty registry key renders no host (Bitnami's template skips it): the whole name goes to repository.
            if (registry is null || registryValue.Length == 0)
                Set(repository, image.Name);
            else
            {
                var (host, path) = image.SplitRegistry();
                Set(registry, host);
                Set(repository, path);
            }
        }

        if (image.Digest is not null && target.DigestInTag)
        {
            Set(Required(context, document, tagPath, "TagKey", "tag"), (image.Tag ?? "") + "@" + image.Digest);
            return new EditPlan(changes, [], [pinned]);
        }
        if (image.Tag is not null) Set(Required(context, document, tagPath, "TagKey", "tag"), image.Tag);
        if (image.Digest is not null)
        {
            if (digest is null)
                throw new PromotionException($"{context.File}: {image.Text} is pinned by digest but the values have no {target.DigestKey ?? target.Image + ".digest"}; add it (e.g. digest: \"\"), name it with --helm=digest=KEY, or set HelmValuesTarget.DigestInTag");
            Set(digest, image.Digest);
        }
        else if (digest?.Node.Deref() is SourceScalar { Value.Length: > 0 })
        {
            // A stale digest would win over the new tag in charts that prefer the digest.
            Set(digest, "");
        }
        return new EditPlan(changes, [], [pinned]);
    }

    private static LocatedNode Required(EditContext context, SourceDocument document, YamlPath path, string option, string key)
    {
        var node = path.Locate(document.Root, out var resolved, out var problem);
        if (node is not null) return node;
        var found = resolved == 0 ? "nothing of it" : new YamlPath(path.Segments.Take(resolved).ToArray()).ToString();
        throw new PromotionException($"{context.File}: the values have no {path} (found {found}{(problem is null ? "" : "; " + problem)}); name the key your chart reads with --helm={key}=KEY (HelmValuesTarget.{option}) or its image mapping with --helm=PATH");
    }

    /// <summary>What the chart renders now: registry/repository:tag@digest with the parts that are set.</summary>
    private static string Pinned(LocatedNode? registry, LocatedNode repository, LocatedNode? tag, LocatedNode? digest)
    {
        var registryValue = registry is null ? "" : ValueOf(registry.Node);
        var text = (registryValue.Length > 0 ? registryValue + "/" : "") + ValueOf(repository.Node);
        if (tag is not null && ValueOf(tag.Node) is { Length: > 0 } t) text += ":" + t;
        if (digest is not null && ValueOf(digest.Node) is { Length: > 0 } d) text += "@" + d;
        return text;
    }

    private static string ValueOf(SourceNode node) => node.Deref() is SourceScalar s ? s.Value : "";
}
