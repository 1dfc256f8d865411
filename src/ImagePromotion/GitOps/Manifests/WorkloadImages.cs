namespace ImagePromotion.GitOps.Manifests;

/// <summary>Finds the containers of Kubernetes workloads in parsed documents and picks the target's.</summary>
internal static class WorkloadImages
{
    /// <summary>
    /// A container slot: its workload, name, mapping and path to the image. <see cref="Image"/> is read only
    /// when asked, so a duplicate key in a container the edit never looks at does not stop it.
    /// </summary>
    internal sealed record ContainerSlot(int Document, string Kind, string? WorkloadName, string? Name, SourceMapping Container, YamlPath ImagePath)
    {
        public string Workload => $"{Kind}/{WorkloadName ?? "(unnamed)"}";
        public SourceNode? Image => Container.Get("image");
        public int Line => Image?.Line ?? Container.Line;
    }

    private static readonly YamlPath TemplateSpec = YamlPath.Parse(".spec.template.spec");
    private static readonly YamlPath CronJobSpec = YamlPath.Parse(".spec.jobTemplate.spec.template.spec");
    private static readonly YamlPath PodSpec = YamlPath.Parse(".spec");

    private static YamlPath? PodSpecPath(string kind) => kind switch
    {
        "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "Job" or "ReplicationController" => TemplateSpec,
        "CronJob" => CronJobSpec,
        "Pod" => PodSpec,
        _ => null,
    };

    public static EditPlan Plan(EditContext context, ContainerImageTarget target)
    {
        var slots = context.Documents.SelectMany(d => Slots(d.Index, d.Root, new YamlPath([]))).ToList();
        var matches = slots.Where(s => Matches(s, target, context.Image)).ToList();
        var wanted = Describe(target, context.Image);
        if (matches.Count == 0)
        {
            var seen = slots.Count == 0 ? "it has no workload containers"
                : "containers seen: " + string.Join(", ", slots.Take(8).Select(s => $"{s.Workload} {s.Name} ({ImageOf(s)})"));
            throw new NoMatchingContainerException($"{context.File}: no container matches {wanted}; {seen}; name the container or check the file");
        }
        if (matches.Count > 1 && !target.AllMatches)
            throw new PromotionException($"{context.File}: {matches.Count} containers match {wanted} ({string.Join(", ", matches.Select(m => $"line {m.Line} {m.Workload} {m.Name}"))}); ambiguous: give the container name, the workload name or kind, or allow all matches");
        var changes = matches.Select(m =>
        {
            var location = $"{context.DocumentPrefix(m.Document)}{m.Workload} {m.ImagePath}";
            if (m.Image is null || context.Locate(m.Document, m.ImagePath) is not { } located)
                throw new PromotionException($"{context.Where(m.Line, location)}: container '{m.Name}' has no image key; add one");
            return context.SetScalar(m.Document, located, location, context.Image.Text);
        }).ToList();
        return new EditPlan(changes, [], changes.Select(c => c.OldValue ?? "").ToList());
    }

    internal static IEnumerable<ContainerSlot> Slots(int document, SourceNode? node, YamlPath prefix)
    {
        if (node?.Deref() is not SourceMapping resource) yield break;
        var kind = resource.GetString("kind");
        if (kind == "List" && resource.Get("items")?.Deref() is SourceSequence items)
        {
            for (var i = 0; i < items.Items.Count; i++)
                foreach (var slot in Slots(document, items.Items[i], prefix.Append(new KeySegment("items"), new IndexSegment(i))))
                    yield return slot;
            yield break;
        }
        if (kind is null || PodSpecPath(kind) is not { } specPath) yield break;
        var name = (resource.Get("metadata")?.Deref() as SourceMapping)?.GetString("name");
        if (specPath.Resolve(resource, out _, out _)?.Deref() is not SourceMapping spec) yield break;
        foreach (var list in new[] { "initContainers", "containers" })
        {
            if (spec.Get(list)?.Deref() is not SourceSequence containers) continue;
            for (var i = 0; i < containers.Items.Count; i++)
            {
                if (containers.Items[i].Deref() is not SourceMapping container) continue;
                var path = prefix.Append(specPath).Append(new KeySegment(list), new IndexSegment(i), new KeySegment("image"));
                yield return new ContainerSlot(document, kind, name, container.GetString("name"), container, path);
            }
        }
    }

    private static bool Matches(ContainerSlot slot, ContainerImageTarget target, ImageText image)
    {
        if (target.Kind is not null && !string.Equals(slot.Kind, target.Kind, StringComparison.OrdinalIgnoreCase)) return false;
        if (target.WorkloadName is not null && slot.WorkloadName != target.WorkloadName) return false;
        if (target.ContainerName is not null) return slot.Name == target.ContainerName;
        return slot.Image?.Deref() is SourceScalar current && image.SameRepository(current.Value);
    }

    private static string ImageOf(ContainerSlot slot) => slot.Image?.Deref() is SourceScalar s ? s.Value : "no image";

    private static string Describe(ContainerImageTarget target, ImageText image)
    {
        var parts = new List<string>();
        parts.Add(target.ContainerName is not null ? $"name '{target.ContainerName}'" : $"repository {image.Reference.Name}");
        if (target.Kind is not null) parts.Add($"kind {target.Kind}");
        if (target.WorkloadName is not null) parts.Add($"workload '{target.WorkloadName}'");
        return string.Join(", ", parts);
    }

    /// <summary>A cheap text test that rules a file out before parsing it.</summary>
    public static string Needle(ContainerImageTarget target, ImageText image)
    {
        if (target.ContainerName is not null) return target.ContainerName;
        var name = image.Reference.Repository;
        return name[(name.LastIndexOf('/') + 1)..];
    }
}

/// <summary>No container matched: an error for one file, a file to skip when scanning a folder.</summary>
internal sealed class NoMatchingContainerException(string message) : PromotionException(message);
