using ImagePromotion.Configuration;
using ImagePromotion.Logging;

using ImagePromotion.Processes;

namespace ImagePromotion.Pipeline.Building;

/// <summary>
/// Builds each image once into an OCI image layout (<c>.artifacts/oci</c>, tagged with the commit), so the
/// push that follows copies exactly those bytes: <c>docker buildx</c> when a Docker engine answers,
/// daemonless <c>buildah</c> otherwise.
/// </summary>
public sealed class ImageBuilder(PromotionConfig config, string artifactsDirectory, IPipelineLog log)
{
    /// <summary>The OCI layout every build goes into (one tag per image and commit).</summary>
    public string LayoutDirectory => Path.Combine(artifactsDirectory, "oci");

    /// <summary>
    /// The builder for <paramref name="build"/>: its configured one, or (auto) <c>docker</c> when a Docker engine answers,
    /// else <c>buildah</c>. A Docker CLI with no daemon behind it (a fresh CI machine, a container) is no builder.
    /// </summary>
    /// <param name="build">The image's build settings (its <c>builder</c>).</param>
    /// <param name="ct">Cancels the <c>docker info</c> probe.</param>
    /// <param name="pathVariable">PATH to look for the tools in (tests); null: this process's PATH.</param>
    public async Task<string> ChooseBuilderAsync(BuildSettings build, CancellationToken ct, string? pathVariable = null)
    {
        if (build.Builder != "auto") return build.Builder;
        if (await EngineAnswersAsync(pathVariable, ct).ConfigureAwait(false)) return "docker";
        if (Scanning.ExecutableLocator.Find("buildah", pathVariable) is not null) return "buildah";
        throw new PromotionException("no image builder found: no Docker engine answers 'docker info' and buildah is not installed: install buildah (apt-get install buildah) or start a Docker engine, or set build.builder");
    }

    /// <summary>True when a Docker engine answers <c>docker info</c>; whether a <c>docker</c> CLI exists says nothing about that.</summary>
    /// <param name="pathVariable">PATH to look for docker in, and to run it with (tests); null: this process's PATH.</param>
    /// <param name="ct">Cancels the probe.</param>
    public static async Task<bool> EngineAnswersAsync(string? pathVariable, CancellationToken ct)
    {
        var docker = Scanning.ExecutableLocator.Find("docker", pathVariable);
        if (docker is null) return false;
        var environment = pathVariable is null ? null : new Dictionary<string, string?> { ["PATH"] = pathVariable };
        var info = await ProcessRunner.RunAsync(new ProcessRequest(docker, ["info", "--format", "{{.ServerVersion}}"])
        { Environment = environment, Timeout = TimeSpan.FromSeconds(30) }, ct: ct).ConfigureAwait(false);
        return info.ExitCode == 0 && info.Output.Trim().Length > 0;
    }

    /// <summary>
    /// Builds <paramref name="image"/> with <paramref name="builder"/> into the layout under <paramref name="tag"/>, with
    /// <paramref name="labels"/> (the commit, see <see cref="BuildRevision"/>) on the image config.
    /// </summary>
    public async Task BuildAsync(ImageSettings image, string builder, string tag, IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        var build = image.Build;
        var context = config.ResolvePath(build.Context);
        var containerfile = Path.Combine(context, build.Containerfile);
        if (!File.Exists(containerfile))
            throw new PromotionException($"{config.Source}: the containerfile '{containerfile}' of image {image.Name} does not exist: fix its context or containerfile");
        Directory.CreateDirectory(artifactsDirectory);
        var name = $"localhost/{image.Name}:{tag}";
        if (builder == "docker")
        {
            var args = new List<string> { "buildx", "build", "-f", containerfile, "-t", name,
                "--output", $"type=oci,dest={LayoutDirectory},tar=false,name={tag}" };
            if (build.Platform.Length > 0) args.AddRange(new[] { "--platform", build.Platform });
            foreach (var (key, value) in labels) args.AddRange(new[] { "--label", $"{key}={value}" });
            args.Add(context);
            await Check(await ProcessRunner.RunAsync("docker", args, log: log, ct: ct), "docker buildx build");
            return;
        }

        // A private storage root keeps the build away from any other containers storage on the machine.
        var storage = new[] { "--storage-driver", "vfs", "--root", Path.Combine(artifactsDirectory, "buildah", "root"),
            "--runroot", Path.Combine(artifactsDirectory, "buildah", "run") };
        var bud = storage.Concat(new[] { "bud", "--isolation", "chroot", "-f", containerfile, "-t", name }).ToList();
        if (build.Platform.Length > 0) bud.AddRange(new[] { "--platform", build.Platform });
        foreach (var (key, value) in labels) bud.AddRange(new[] { "--label", $"{key}={value}" });
        bud.Add(context);
        await Check(await ProcessRunner.RunAsync("buildah", bud, log: log, ct: ct), "buildah bud");
        await Check(await ProcessRunner.RunAsync("buildah", storage.Concat(new[] { "push", name, $"oci:{LayoutDirectory}:{tag}" }), log: log, ct: ct), "buildah push");
    }

    private static Task Check(ProcessResult r, string what) =>
        r.ExitCode == 0 ? Task.CompletedTask
            : throw new PromotionException($"{what} failed (exit {r.ExitCode}): {SecretRedactor.Shared.Redact(ProcessRunner.LastLine(r.Error + "\n" + r.Output))}");
}
