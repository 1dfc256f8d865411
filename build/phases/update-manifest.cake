// UpdateManifest: edit the image in one local manifest file in place, like `yq -i` or
// `kustomize edit set image`, changing only the bytes of the image value. No git, no registry.
Phase("UpdateManifest", "Set the image in one local manifest: --manifest=PATH --image=REF [--container=NAME | --path=EXPR | --kustomize[=NAME] | --helm[=IMAGE_KEY | registry=KEY,repository=KEY,tag=KEY,digest=KEY]]",
    async () =>
    {
        var manifest = Argument<string>("manifest", null) ?? throw new PromotionException("UpdateManifest needs --manifest=PATH: the YAML file to edit");
        var image = Argument<string>("image", null) ?? throw new PromotionException("UpdateManifest needs --image=REF: the new image, e.g. registry/app:1.2@sha256:…");
        var full = System.IO.Path.GetFullPath(manifest);
        var root = Argument<string>("root", System.IO.Path.GetDirectoryName(full));
        ImagePromotion.GitOps.Manifests.ManifestTarget target =
            HasArgument("path") ? new ImagePromotion.GitOps.Manifests.YamlPathTarget(Argument<string>("path"))
            : HasArgument("kustomize") ? new ImagePromotion.GitOps.Manifests.KustomizeImageTarget(Argument<string>("kustomize", null) is { Length: > 0 } n && n != "true" ? n : null)
            : HasArgument("helm") ? ImagePromotion.GitOps.Manifests.HelmValuesTarget.Parse(Argument<string>("helm", null))
            : new ImagePromotion.GitOps.Manifests.ContainerImageTarget(Argument<string>("container", null));
        var updater = new ImagePromotion.GitOps.Manifests.ManifestUpdater(root, log: Log);
        if (Session.DryRun)
        {
            // Plan mode: edit the text in memory and show the diff; the file is not touched.
            var text = System.IO.File.ReadAllText(full);
            var edit = ImagePromotion.GitOps.Manifests.ManifestEditor.Edit(text, manifest, target, image);
            var diff = ImagePromotion.GitOps.Manifests.UnifiedDiff.Create(text, edit.Text, "a/" + manifest, "b/" + manifest);
            Log.Information(diff.Length == 0 ? $"{manifest}: already holds {image}; nothing to change" : $"dry run: would change {manifest}:\n{diff}");
            return;
        }
        var result = await updater.UpdateFileAsync(System.IO.Path.GetRelativePath(root, full), target, image, CancellationToken.None);
        Log.Information(result.Changed ? $"{manifest}: updated\n{result.Diff}" : $"{manifest}: already holds {image}; left untouched");
    }, "manifest", "container", "path", "kustomize", "helm", "root");
