using ImagePromotion.Configuration;
using ImagePromotion.Logging;

using ImagePromotion.Processes;

namespace ImagePromotion.Pipeline;

/// <summary>
/// Builds the image once into an OCI image layout (<c>.artifacts/oci</c>, tagged with the commit), so the
/// push that follows copies exactly those bytes: <c>docker buildx</c> when a Docker engine answers,
/// daemonless <c>buildah</c> otherwise.
/// </summary>
public sealed class ImageBuilder(PromotionConfig config, string artifactsDirectory, IPipelineLog log)
{
    public string LayoutDirectory => Path.Combine(artifactsDirectory, "oci");

    public async Task<string> ChooseBuilderAsync(CancellationToken ct)
    {
        if (config.Build.Builder != "auto") return config.Build.Builder;
        if (ProcessRunner.Exists("docker"))
        {
            var info = await ProcessRunner.RunAsync("docker", new[] { "info", "--format", "{{.ServerVersion}}" }, ct: ct);
            if (info.ExitCode == 0) return "docker";
        }
        if (ProcessRunner.Exists("buildah")) return "buildah";
        throw new PromotionException("no image builder found: install buildah (apt-get install buildah) or start a Docker engine, or set build.builder");
    }

    public async Task BuildAsync(string builder, string tag, CancellationToken ct)
    {
        var context = config.ResolvePath(config.Build.Context);
        var containerfile = Path.Combine(context, config.Build.Containerfile);
        if (!File.Exists(containerfile))
            throw new PromotionException($"{config.Source}: build.containerfile '{containerfile}' does not exist: fix build.context or build.containerfile");
        Directory.CreateDirectory(artifactsDirectory);
        var image = $"localhost/{config.Service}:{tag}";
        if (builder == "docker")
        {
            var args = new List<string> { "buildx", "build", "-f", containerfile, "-t", image,
                "--output", $"type=oci,dest={LayoutDirectory},tar=false,name={tag}" };
            if (config.Build.Platform.Length > 0) args.AddRange(new[] { "--platform", config.Build.Platform });
            args.Add(context);
            await Check(await ProcessRunner.RunAsync("docker", args, log: log, ct: ct), "docker buildx build");
            return;
        }

        // A private storage root keeps the build away from any other containers storage on the machine.
        var storage = new[] { "--storage-driver", "vfs", "--root", Path.Combine(artifactsDirectory, "buildah", "root"),
            "--runroot", Path.Combine(artifactsDirectory, "buildah", "run") };
        var bud = storage.Concat(new[] { "bud", "--isolation", "chroot", "-f", containerfile, "-t", image }).ToList();
        if (config.Build.Platform.Length > 0) bud.AddRange(new[] { "--platform", config.Build.Platform });
        bud.Add(context);
        await Check(await ProcessRunner.RunAsync("buildah", bud, log: log, ct: ct), "buildah bud");
        await Check(await ProcessRunner.RunAsync("buildah", storage.Concat(new[] { "push", image, $"oci:{LayoutDirectory}:{tag}" }), log: log, ct: ct), "buildah push");
    }

    private static Task Check(ProcessResult r, string what) =>
        r.ExitCode == 0 ? Task.CompletedTask
            : throw new PromotionException($"{what} failed (exit {r.ExitCode}): {SecretRedactor.Shared.Redact(ProcessRunner.LastLine(r.Error + "\n" + r.Output))}");
}
