// ReleaseTag: a timestamped release-YYYYMMDD-HHMMSS tag on the production digest, never moved once set; the
// release record names the previous release's digest. --digest/--image (what a CI stage promoted) must be what
// production points at: a run never releases a digest a later promotion replaced.
Phase("ReleaseTag", "Tag the production digest release-YYYYMMDD-HHMMSS (UTC)",
    async () =>
    {
        CheckEnvironmentArgument(Session.Config.Release.Environment);
        var promotions = new Promotions(Session);
        var result = await promotions.ReleaseTagAsync(DateTimeOffset.UtcNow, RequestedDigest(), CancellationToken.None);
        PublishImage(result);
        if (!result.DryRun) Ci.SetOutput(ImagePromotion.Ci.OutputNames.ReleaseTag, ImagePromotion.Registry.ImageReference.Parse(result.Destination).Tag);
        if (promotions.LastRecord is { } record) Ci.AppendSummary(record.ToMarkdown(Ci.Identity));
    }, "digest");
