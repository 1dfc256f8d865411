// Copy: the registry engine on its own, like skopeo copy, with a JSON result file.
Phase("Copy", "Copy an image like skopeo copy, digest unchanged; --result-file writes what it did as JSON",
    async () =>
    {
        var (source, reference) = CopySource();
        var destination = ImagePromotion.CommandLine.ArgumentChecks.Reference("to",
            Argument<string>("to", null) ?? throw new ImagePromotion.PromotionException("Copy needs --to=REF: where to copy the image (registry/repository:tag)"));
        // Checked before the copy: a result file that cannot be written must not fail the run after the registry write.
        var resultFile = Argument<string>("result-file", null) is { } typed ? ImagePromotion.CommandLine.ArgumentChecks.OutputFile("result-file", UserPath(typed), typed) : null;
        var options = new ImagePromotion.Copy.CopyOptions { DryRun = Session.DryRun, AllowTagMove = !HasArgument("no-tag-move"), CopyForeignLayers = HasArgument("copy-foreign-layers") };
        var result = source is not null
            ? await Session.Copier.CopyAsync(source, reference, destination, options, CancellationToken.None)
            : await Session.Copier.CopyAsync(ImagePromotion.Registry.ImageReference.Parse(reference), destination, options, CancellationToken.None);
        Log.Information(result.UpToDate ? $"{result.Destination} already points at {result.SourceDigest}: nothing written"
            : result.DryRun ? $"dry run: {result.Destination} would point at {result.SourceDigest}; nothing written"
            : $"{result.Destination} -> {result.DestinationDigest}: copied {result.BlobsCopied}, mounted {result.BlobsMounted}, skipped {result.BlobsSkipped} blobs"
              + (result.MountFallbacks > 0 ? $" ({result.MountFallbacks} refused mounts uploaded instead)" : "")
              + (result.ForeignLayersSkipped > 0 ? $", {result.ForeignLayersSkipped} foreign layers left out" : "")
              + $", {ImagePromotion.Copy.HumanSize.Bytes(result.BytesUploaded)} uploaded");
        if (resultFile is not null)
        {
            // Written beside the target and renamed over it: a reader never sees half a file.
            var temporary = resultFile + ".partial";
            System.IO.File.WriteAllText(temporary, result.ToJson());
            System.IO.File.Move(temporary, resultFile, overwrite: true);
        }
    }, "from=REF|oci:DIR:TAG", "to=REF", "result-file=PATH", "no-tag-move", "copy-foreign-layers");

/// <summary>
/// The source of --from: an OCI layout (oci:DIR:TAG, DIR relative to where ./build.sh was run) with the tag to read,
/// or null and the registry reference, checked.
/// </summary>
(ImagePromotion.Copy.LayoutSource Layout, string Reference) CopySource()
{
    var from = Argument<string>("from", null) ?? throw new ImagePromotion.PromotionException("Copy needs --from=REF: the image to copy (registry/repository:tag, @digest, or oci:DIR:TAG)");
    if (from.StartsWith("oci:", StringComparison.Ordinal))
    {
        var (directory, tag) = ImagePromotion.CommandLine.ArgumentChecks.Layout("from", from, UserPath);
        return (new ImagePromotion.Copy.LayoutSource(directory), tag);
    }
    ImagePromotion.CommandLine.ArgumentChecks.Reference("from", from);
    return (null, from);
}
