using YamlDotNet.RepresentationModel;

namespace ImagePromotion.Configuration;

/// <summary>
/// What one load of a configuration shares: where each value came from (the file, a <c>--set</c> override or a
/// <c>PROMOTION__…</c> variable) and the problems found so far, so a user fixes every one after a single run.
/// </summary>
internal sealed class ConfigProblems(string file)
{
    private readonly Dictionary<YamlNode, string> _overrides = new(ReferenceEqualityComparer.Instance);
    private readonly List<string> _problems = [];

    public string File => file;

    public int Count => _problems.Count;

    /// <summary>Records that <paramref name="node"/> was made by an override, named as the user wrote it.</summary>
    public void MarkOverride(YamlNode node, string origin) => _overrides.TryAdd(node, origin);

    /// <summary>The override that made <paramref name="node"/>, or null when the node is from the file.</summary>
    public string? OverrideOf(YamlNode node) => _overrides.GetValueOrDefault(node);

    /// <summary>Where a message about <paramref name="node"/> points: <c>file:line</c>, or the override that made it.</summary>
    public string Where(YamlNode node) => OverrideOf(node) ?? $"{file}:{node.Start.Line}";

    public void Add(string problem)
    {
        if (!_problems.Contains(problem)) _problems.Add(problem);
    }

    /// <summary>Runs one independent part of the reading; its error is recorded and the reading goes on.</summary>
    public T? Try<T>(Func<T> read)
    {
        try { return read(); }
        catch (PromotionException ex) { Add(ex.Message); return default; }
    }

    public void Try(Action read)
    {
        try { read(); }
        catch (PromotionException ex) { Add(ex.Message); }
    }

    /// <summary>The items of <paramref name="items"/> up to the first that cannot be read (that one is recorded).</summary>
    public List<T> Each<T>(IEnumerable<T> items)
    {
        var result = new List<T>();
        try { foreach (var item in items) result.Add(item); }
        catch (PromotionException ex) { Add(ex.Message); }
        return result;
    }

    /// <summary>
    /// Nothing when no problem was found; the one problem as it is; or every problem in one line, numbered, each
    /// with its line (or override) and without the repeated file name.
    /// </summary>
    public void ThrowIfAny()
    {
        if (_problems.Count == 0) return;
        if (_problems.Count == 1) throw new PromotionException(_problems[0]);
        var items = _problems.Select((p, i) => $"({i + 1}) {Short(p)}");
        throw new PromotionException($"{file}: {_problems.Count} problems, fix them all: {string.Join("; ", items)}");
    }

    private string Short(string problem)
    {
        if (!problem.StartsWith(file + ":", StringComparison.Ordinal)) return problem;
        var rest = problem[(file.Length + 1)..];
        var digits = rest.TakeWhile(char.IsDigit).Count();
        return digits > 0 && rest.Length > digits && rest[digits] == ':' ? $"line {rest[..digits]}:{rest[(digits + 1)..]}" : rest.TrimStart();
    }
}
