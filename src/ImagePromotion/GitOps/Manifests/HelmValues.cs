namespace ImagePromotion.GitOps.Manifests;

/// <summary>Writes repository, tag and digest into the keys a Helm chart reads them from.</summary>
internal static class HelmValues
{
    public static List<PlannedChange> Plan(EditContext context, HelmValuesTarget target)
    {
        var document = context.Documents.FirstOrDefault(d => d.Root is not null)
            ?? throw new PromotionException($"{context.File}: the values file is empty; add the image keys ({target.RepositoryKey}, {target.TagKey})");
        var image = context.Image;
        var changes = new List<PlannedChange>();

        var repositoryPath = YamlPath.Parse(target.RepositoryKey);
        var repository = Required(context, document, repositoryPath, "RepositoryKey");
        var registryPath = target.RegistryKey is null ? null : YamlPath.Parse(target.RegistryKey);
        var registry = registryPath is null ? null : Required(context, document, registryPath, "RegistryKey");
        var current = ValueOf(repository);
        if (registry is not null) current = ValueOf(registry) + "/" + current;
        if (!image.SameRepository(current))
        {
            if (registry is null)
                changes.Add(context.SetScalar(document.Index, repositoryPath, repositoryPath.ToString(), repository, image.Name));
            else
            {
                var (host, path) = image.SplitRegistry();
                changes.Add(context.SetScalar(document.Index, registryPath!, registryPath!.ToString(), registry, host));
                changes.Add(context.SetScalar(document.Index, repositoryPath, repositoryPath.ToString(), repository, path));
            }
        }

        var tagPath = YamlPath.Parse(target.TagKey);
        var digestPath = target.DigestKey is null ? null : YamlPath.Parse(target.DigestKey);
        var digestNode = digestPath?.Resolve(document.Root, out _, out _);
        if (image.Digest is not null && target.DigestInTag)
        {
            var tag = Required(context, document, tagPath, "TagKey");
            changes.Add(context.SetScalar(document.Index, tagPath, tagPath.ToString(), tag, (image.Tag is null ? "" : image.Tag) + "@" + image.Digest));
            return changes;
        }
        if (image.Tag is not null)
        {
            var tag = Required(context, document, tagPath, "TagKey");
            changes.Add(context.SetScalar(document.Index, tagPath, tagPath.ToString(), tag, image.Tag));
        }
        if (image.Digest is not null)
        {
            if (digestPath is null || digestNode is null)
                throw new PromotionException($"{context.File}: {image.Text} is pinned by digest but the values have no {(target.DigestKey ?? "digest key")}; add it (e.g. digest: \"\") or set HelmValuesTarget.DigestInTag");
            changes.Add(context.SetScalar(document.Index, digestPath, digestPath.ToString(), digestNode, image.Digest));
        }
        else if (digestNode?.Deref() is SourceScalar { Value.Length: > 0 })
        {
            // A stale digest would win over the new tag in charts that prefer the digest.
            changes.Add(context.SetScalar(document.Index, digestPath!, digestPath!.ToString(), digestNode, ""));
        }
        return changes;
    }

    private static SourceNode Required(EditContext context, SourceDocument document, YamlPath path, string option)
    {
        var node = path.Resolve(document.Root, out var resolved, out var problem);
        if (node is not null) return node;
        var found = resolved == 0 ? "nothing of it" : new YamlPath(path.Segments.Take(resolved).ToArray()).ToString();
        throw new PromotionException($"{context.File}: the values have no {path} (found {found}{(problem is null ? "" : "; " + problem)}); set HelmValuesTarget.{option} to the key your chart reads");
    }

    private static string ValueOf(SourceNode node) => node.Deref() is SourceScalar s ? s.Value : "";
}
