// Rollback: an earlier release back into production through the gates named by gates.rollback; says what it replaced.
Phase("Rollback", "Promote an earlier release back into production: --to-release=release-YYYYMMDD-HHMMSS or --previous",
    async () =>
    {
        CheckEnvironmentArgument(Session.Config.Release.Environment);
        var autoMerge = Argument<string>("auto-merge", null) is { } am ? (bool?)bool.Parse(am) : null;
        ReportPromotion(await new Rollback(Session).RunAsync(Argument<string>("to-release", null), HasArgument("previous"), autoMerge, CancellationToken.None));
    }, "to-release", "previous");
