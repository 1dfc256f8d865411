// Scan: built-in checks (secrets in layers, config hygiene) and the configured scanners on one digest; the
// result is attached to the image as evidence. Non-zero exit when it fails its thresholds.
Phase("Scan", "Scan --image=REF (default: the commit's dev image); the result is attached to the digest as evidence",
    async () =>
    {
        var image = Argument<string>("image", null);
        var outcome = await new ScanPhase(Session).RunAsync(image is null ? null : ImagePromotion.Registry.ImageReference.Parse(image), CancellationToken.None);
        if (outcome is null) return;
        var summary = new ImagePromotion.Ci.PromotionSummary($"{Session.Config.Service}: scan of {outcome.Image.Digest}").WithRun(Ci.Identity, Ci.RunUrl);
        summary.AddGate("scan", outcome.Result.Passed ? "passed" : "failed", string.Join("; ", outcome.Result.Reasons.DefaultIfEmpty("within thresholds")));
        Ci.AppendSummary(summary.ToMarkdown());
        ScanPhase.ThrowIfFailed(outcome);
        // The scanned image, pinned: the next stage promotes exactly what passed.
        if (!Session.DryRun)
        {
            Ci.SetOutput(ImagePromotion.Ci.OutputNames.Image, outcome.Image.ToString());
            Ci.SetOutput(ImagePromotion.Ci.OutputNames.Digest, outcome.Image.Digest.ToString());
        }
    });
