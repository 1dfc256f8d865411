// PushDev: push the built layout to the dev environment under the commit tag (a no-op when it is there).
Phase("PushDev", "Push the build to the dev registry, tagged with the commit",
    async () => PublishImage(await new Promotions(Session).PushDevAsync(CancellationToken.None)))
    .IsDependentOn("BuildOnce");
