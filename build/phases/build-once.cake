// BuildOnce: build the commit's image once, into an OCI layout, unless the dev registry or the layout already holds
// this commit's build; the digest goes to later CI steps (the output digest, CodeBuild's DIGEST).
Phase("BuildOnce", "Build the image for the current commit once (buildah, or docker buildx when an engine answers)",
    async () =>
    {
        var digest = await new Promotions(Session).BuildOnceAsync(CancellationToken.None);
        if (!Session.DryRun) Ci.SetOutput(ImagePromotion.Ci.OutputNames.Digest, digest);
    });
