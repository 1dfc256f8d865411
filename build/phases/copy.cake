// Copy: the registry engine on its own, like skopeo copy, with a JSON result file.
Phase("Copy", "Copy --from=REF --to=REF, digest unchanged; --result-file=PATH writes what it did as JSON",
    async () =>
    {
        var from = Argument<string>("from", null) ?? throw new ImagePromotion.PromotionException("Copy needs --from=REF: the image to copy (registry/repository:tag or @digest)");
        var to = Argument<string>("to", null) ?? throw new ImagePromotion.PromotionException("Copy needs --to=REF: where to copy the image (registry/repository:tag)");
        var destination = ImagePromotion.Registry.ImageReference.Parse(to);
        var options = new ImagePromotion.Copy.CopyOptions { DryRun = Session.DryRun, AllowTagMove = !HasArgument("no-tag-move"), CopyForeignLayers = HasArgument("copy-foreign-layers") };
        var result = from.StartsWith("oci:")
            ? await Session.Copier.CopyAsync(new ImagePromotion.Copy.LayoutSource(from[4..from.LastIndexOf(':')]), from[(from.LastIndexOf(':') + 1)..], destination, options, CancellationToken.None)
            : await Session.Copier.CopyAsync(ImagePromotion.Registry.ImageReference.Parse(from), destination, options, CancellationToken.None);
        Log.Information(result.UpToDate ? $"{result.Destination} already points at {result.SourceDigest}: nothing written"
            : result.DryRun ? $"dry run: {result.Destination} would point at {result.SourceDigest}; nothing written"
            : $"{result.Destination} -> {result.DestinationDigest}: copied {result.BlobsCopied}, mounted {result.BlobsMounted}, skipped {result.BlobsSkipped} blobs"
              + (result.MountFallbacks > 0 ? $" ({result.MountFallbacks} refused mounts uploaded instead)" : "")
              + (result.ForeignLayersSkipped > 0 ? $", {result.ForeignLayersSkipped} foreign layers left out" : "")
              + $", {ImagePromotion.Copy.HumanSize.Bytes(result.BytesUploaded)} uploaded");
        var resultFile = Argument<string>("result-file", null);
        if (resultFile is not null) System.IO.File.WriteAllText(resultFile, result.ToJson());
    }, "from", "to", "result-file", "no-tag-move", "copy-foreign-layers");
