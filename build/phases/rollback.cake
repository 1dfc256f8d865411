// Rollback: the whole release (every image) back to an earlier release tag through the gates named by gates.rollback;
// says what it replaced.
Phase("Rollback", "Promote an earlier release back into production: --to-release=TAG or --previous",
    async () =>
    {
        ReportPromotion(await Pipeline().RollbackAsync(Selection() with { Digest = null, Image = null }, Argument<string>("environment", null),
            Argument<string>("to-release", null), HasArgument("previous"), AutoMerge(), CancellationToken.None));
    }, "to-release=release-YYYYMMDD-HHMMSS", "previous", "environment=NAME", "auto-merge=true|false");
