// PromoteProduction: repository/registry-based promotion of the staging digest; the replaced tag is reported.
Phase("PromoteProduction", "Copy the staging digest into the production repository and move the production tag",
    async () =>
    {
        var digest = Argument<string>("digest", null);
        await new Promotions(Session).PromoteAsync("staging", "production",
            digest is null ? null : ImagePromotion.Registry.Digest.Parse(digest), CancellationToken.None);
    }, "digest");
