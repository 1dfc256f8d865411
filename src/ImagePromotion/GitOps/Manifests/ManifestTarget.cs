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
/// Keys of a Helm values file, as dotted paths. <paramref name="DigestKey"/> may be absent from the file when
/// the new image has no digest. <paramref name="RegistryKey"/> is for charts that split the registry off
/// (Bitnami style). <paramref name="DigestInTag"/> writes <c>tag@sha256:…</c> into the tag key for charts
/// that have no digest value.
/// </summary>
public sealed record HelmValuesTarget(
    string RepositoryKey = "image.repository",
    string TagKey = "image.tag",
    string? DigestKey = "image.digest",
    string? RegistryKey = null,
    bool DigestInTag = false) : ManifestTarget;

/// <summary>
/// An explicit yq-style path whose scalar receives the whole image reference, e.g.
/// <c>.spec.template.spec.containers[0].image</c> or <c>.spec.template.spec.containers[name=web].image</c>.
/// In a multi-document file the path must exist in exactly one document unless <paramref name="Document"/>
/// (0-based) says which.
/// </summary>
public sealed record YamlPathTarget(string Path, int? Document = null) : ManifestTarget;
