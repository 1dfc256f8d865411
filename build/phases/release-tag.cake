// ReleaseTag: a timestamped release-YYYYMMDD-HHMMSS tag on the production digest, never moved once set; the
// release record names the previous release's digest.
Phase("ReleaseTag", "Tag the production digest release-YYYYMMDD-HHMMSS (UTC)",
    async () =>
    {
        CheckEnvironmentArgument(Session.Config.Release.Environment);
        var promotions = new Promotions(Session);
        var result = await promotions.ReleaseTagAsync(DateTimeOffset.UtcNow, CancellationToken.None);
        PublishImage(result);
        if (!result.DryRun) Ci.SetOutput(ImagePromotion.Ci.OutputNames.ReleaseTag, ImagePromotion.Registry.ImageReference.Parse(result.Destination).Tag);
        if (promotions.LastRecord is { } record) Ci.AppendSummary(record.ToMarkdown(Ci.Identity));
    });
