// Rollback: the whole release (every image) back to an earlier release tag through the gates named by gates.rollback;
// says what it replaced.
Phase("Rollback", "Promote an earlier release back into production: --to-release=release-YYYYMMDD-HHMMSS or --previous",
    async () =>
    {
        var autoMerge = Argument<string>("auto-merge", null) is { } am ? (bool?)bool.Parse(am) : null;
        ReportPromotion(await Pipeline().RollbackAsync(Selection() with { Digest = null, Image = null }, Argument<string>("environment", null),
            Argument<string>("to-release", null), HasArgument("previous"), autoMerge, CancellationToken.None));
    }, "to-release", "previous");
