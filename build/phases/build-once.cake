// BuildOnce: build the commit's image once, into an OCI layout, unless the dev registry already holds it.
Phase("BuildOnce", "Build the image for the current commit once (buildah, or docker buildx when an engine answers)",
    async () => await new Promotions(Session).BuildOnceAsync(CancellationToken.None));
