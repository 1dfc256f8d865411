// BuildOnce: build each image of the commit once, into an OCI layout, unless the dev registry already holds it.
// Skipped when --image/--digest names the artifact to promote (a CI promotion job builds nothing).
Phase("BuildOnce", "Build every image of the current commit once (buildah, or docker buildx when an engine answers)",
    async () =>
    {
        if (PinnedByArgument()) { Log.Information("BuildOnce: skipped, --image/--digest names the image to promote"); return; }
        await Pipeline().BuildAsync(Selection(), CancellationToken.None);
    }, "image=REF@sha256:…", "digest=sha256:…");
