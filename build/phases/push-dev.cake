// PushDev: push each build to the first environment under the commit tag (a no-op when it is there).
Phase("PushDev", "Push every build to the dev registry, tagged with the commit",
    async () =>
    {
        if (PinnedByArgument()) { Log.Information("PushDev: skipped, --image/--digest names the image to promote"); return; }
        ReportPromotion(await Pipeline().PushAsync(Selection(), CancellationToken.None));
    })
    .IsDependentOn("BuildOnce");
