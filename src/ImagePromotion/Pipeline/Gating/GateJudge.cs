using ImagePromotion.Gates;

namespace ImagePromotion.Pipeline.Gating;

/// <summary>
/// Judges one release: every registered gate the configuration switches on, image-scoped gates once per image.
/// An image whose digest an earlier phase of the run produces cannot be judged yet: its gates wait.
/// </summary>
public sealed class GateJudge
{
    /// <summary>Every verdict, in registry order (per image in image order).</summary>
    /// <param name="pendingImages">Images of the release whose digest is not known yet.</param>
    /// <param name="context">The release, environment, settings and clients the gates read.</param>
    /// <param name="ct">Cancels the gates' registry and GitHub reads.</param>
    public async Task<IReadOnlyList<GateResult>> JudgeAsync(GateContext context, IReadOnlyList<string> pendingImages, CancellationToken ct)
    {
        var results = new List<GateResult>();
        var several = context.Images.Count + pendingImages.Count > 1;
        foreach (var gate in GateRegistry.All)
        {
            if (!gate.AppliesTo(context)) continue;
            if (gate.Scope == GateScope.Release)
            {
                results.Add(await gate.JudgeAsync(context, ct).ConfigureAwait(false));
                continue;
            }
            foreach (var image in context.Images)
            {
                var verdict = await gate.JudgeAsync(context with { Image = image }, ct).ConfigureAwait(false);
                results.Add(several ? verdict with { Image = image.Name } : verdict);
            }
            foreach (var image in pendingImages)
                results.Add(GateResult.Wait(gate.Name, "judged once the image exists: an earlier phase of this run produces it") with { Image = several ? image : null });
        }
        return results;
    }
}
