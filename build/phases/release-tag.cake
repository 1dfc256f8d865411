// ReleaseTag: a timestamped release-YYYYMMDD-HHMMSS tag, the same on every image, on what the release environments
// run; never moved once set. The release record lists every image and digest and the previous release's digests.
// --digest/--image (what a CI stage promoted) must be what the release environment points at: a run never releases
// a digest a later promotion replaced.
Phase("ReleaseTag", "Tag the production digests release-YYYYMMDD-HHMMSS (UTC), the same tag on every image",
    async () =>
    {
        var result = await Pipeline().ReleaseTagAsync(Selection(), Argument<string>("environment", null), DateTimeOffset.UtcNow, CancellationToken.None);
        ReportPromotion(result);
        if (result.Outcome is not null && result.Plan.Releases.FirstOrDefault()?.ReleaseTag is { } tag)
            Ci.SetOutput(ImagePromotion.Ci.OutputNames.ReleaseTag, tag);
    }, "environment=NAME", "image=REF@sha256:…", "digest=sha256:…");
