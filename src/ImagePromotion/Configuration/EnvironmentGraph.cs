namespace ImagePromotion.Configuration;

/// <summary>
/// The environments as a graph: each names the one it comes <c>from:</c>, so staging may fan out into several
/// production regions. Validated on load: a <c>from:</c> must name an environment, and following them must reach
/// the first environment (where builds are pushed) without a cycle.
/// </summary>
internal static class EnvironmentGraph
{
    /// <summary>The environments ordered so each comes after its upstream (file order otherwise kept).</summary>
    /// <param name="fromLines">The line of each environment whose <c>from:</c> was written in the file, for messages.</param>
    /// <param name="environments">The environments in file order.</param>
    /// <param name="file">Configuration file name, for messages.</param>
    public static List<EnvironmentSettings> Order(IReadOnlyList<EnvironmentSettings> environments, IReadOnlyDictionary<string, int> fromLines, string file)
    {
        var byName = environments.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var first = environments[0];
        if (first.From is not null)
            throw new PromotionException($"{file}:{fromLines.GetValueOrDefault(first.Name)}: 'environments.{first.Name}.from' is set, but the first environment is where builds are pushed: list the environment it names first, or drop from");
        foreach (var e in environments)
        {
            if (e.From is null || byName.ContainsKey(e.From)) continue;
            throw new PromotionException($"{file}:{fromLines.GetValueOrDefault(e.Name)}: 'environments.{e.Name}.from' names '{e.From}', which is not under environments (have: {string.Join(", ", byName.Keys)})");
        }
        foreach (var e in environments)
        {
            var path = new List<string> { e.Name };
            for (var at = e; at.From is { } from; at = byName[from])
            {
                if (path.Contains(from))
                    throw new PromotionException($"{file}:{fromLines.GetValueOrDefault(e.Name)}: 'environments.{e.Name}.from' makes a cycle ({string.Join(" <- ", path.Append(from))}): every environment must lead back to {first.Name}");
                path.Add(from);
            }
        }
        var ordered = new List<EnvironmentSettings>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (ordered.Count < environments.Count)
            foreach (var e in environments)
                if (!placed.Contains(e.Name) && (e.From is null || placed.Contains(e.From)))
                {
                    ordered.Add(e);
                    placed.Add(e.Name);
                }
        return ordered;
    }
}
