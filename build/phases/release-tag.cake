// ReleaseTag: a timestamped release-YYYYMMDD-HHMMSS tag on the production digest, never moved once set.
Phase("ReleaseTag", "Tag the production digest release-YYYYMMDD-HHMMSS (UTC)",
    async () =>
    {
        CheckEnvironmentArgument(Session.Config.Release.Environment);
        var result = await new Promotions(Session).ReleaseTagAsync(DateTimeOffset.UtcNow, CancellationToken.None);
        PublishImage(result);
        if (!result.DryRun) Ci.SetOutput(ImagePromotion.Ci.OutputNames.ReleaseTag, ImagePromotion.Registry.ImageReference.Parse(result.Destination).Tag);
    });
