// BuildOnce: build each image of the commit once, into an OCI layout, unless the dev registry or the layout already
// holds this commit's build (its revision label says so); the digest goes to later CI steps (the output digest,
// CodeBuild's exported DIGEST). Skipped when --image/--digest names the artifact to promote (a CI promotion job
// builds nothing).
Phase("BuildOnce", "Build every image of the current commit once (buildah, or docker buildx when an engine answers)",
    async () =>
    {
        if (PinnedByArgument()) { Log.Information("BuildOnce: skipped, --image/--digest names the image to promote"); return; }
        var (_, images) = await Pipeline().BuildAsync(Selection(), CancellationToken.None);
        if (images.Count > 0) Ci.SetOutput(ImagePromotion.Ci.OutputNames.Digest, images[0].Digest.ToString());
    }, "image=REF@sha256:…", "digest=sha256:…");
