// Scan: built-in checks (secrets in layers, config hygiene) and the configured scanners on each image's digest; the
// result is attached to the image as evidence. Non-zero exit when one fails its thresholds. The (first) scanned
// image, pinned, is the step's output: the next stage promotes exactly what passed.
Phase("Scan", "Scan --image=REF (default: every image of the commit in dev); the result is attached to the digest as evidence",
    async () =>
    {
        var image = Argument<string>("image", null);
        var outcomes = await Pipeline().ScanAsync(Selection() with { Digest = null, Image = null },
            image is null ? null : ImagePromotion.Registry.ImageReference.Parse(image), CancellationToken.None);
        foreach (var outcome in outcomes)
        {
            var summary = new ImagePromotion.Ci.PromotionSummary($"scan of {outcome.Image}").WithRun(Ci.Identity, Ci.RunUrl);
            summary.AddGate("scan", outcome.Result.Passed ? "passed" : "failed", string.Join("; ", outcome.Result.Reasons.DefaultIfEmpty("within thresholds")));
            Ci.AppendSummary(summary.ToMarkdown());
        }
        ImagePromotion.Pipeline.Steps.ScanImage.ThrowIfFailed(outcomes);
        if (!Session.DryRun && outcomes.FirstOrDefault() is { Image.Digest: { } digest } scanned)
        {
            Ci.SetOutput(ImagePromotion.Ci.OutputNames.Image, scanned.Image.ToString());
            Ci.SetOutput(ImagePromotion.Ci.OutputNames.Digest, digest.ToString());
        }
    }, "image=REF");
