// Evidence: list what is attached to an image's digest and verify each piece refers to it (non-zero exit if one fails).
Phase("Evidence", "List and verify the evidence attached to --image=REF (scan results, approvals, promotion records)",
    async () =>
    {
        var image = Argument<string>("image", null) ?? throw new PromotionException("Evidence needs --image=REF: the image whose evidence to list, e.g. 127.0.0.1:5702/team/sample-app:production");
        var inspection = await new ImagePromotion.Evidence.EvidenceInspector(Session.Transport, Log)
            .InspectAsync(ImagePromotion.Registry.ImageReference.Parse(image), CancellationToken.None);
        inspection.ThrowIfAnyFailed();
    });
