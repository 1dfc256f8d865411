// ReleaseTag: a timestamped release-YYYYMMDD-HHMMSS tag on the production digest, never moved once set.
Phase("ReleaseTag", "Tag the production digest release-YYYYMMDD-HHMMSS (UTC)",
    async () => await new Promotions(Session).ReleaseTagAsync(DateTimeOffset.UtcNow, CancellationToken.None));
