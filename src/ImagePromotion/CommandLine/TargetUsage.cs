namespace ImagePromotion.CommandLine;

/// <summary>
/// One argument as help shows it: <c>--name=VALUE</c>, or <c>--name</c> for a switch.
/// Declared in the short form <c>"name=VALUE"</c> or <c>"name"</c>, the way the phases list what they read.
/// </summary>
/// <param name="Name">The argument without dashes, as Cake reads it (case ignored).</param>
/// <param name="Value">The shape of its value (PATH, REF, sha256:…), or null for a switch.</param>
/// <param name="Meaning">What it does, for the common arguments help lists once; empty for a target's own.</param>
public sealed record ArgumentUsage(string Name, string? Value, string Meaning = "")
{
    /// <summary>Reads <c>"name=VALUE"</c>, <c>"name"</c>, or <c>"name[=VALUE]"</c> for a value that may be left out.</summary>
    public static ArgumentUsage Parse(string declaration)
    {
        var at = declaration.IndexOfAny(['=', '[']);
        if (at < 0) return new ArgumentUsage(declaration, null);
        return new ArgumentUsage(declaration[..at], declaration[at] == '[' ? declaration[at..] : declaration[(at + 1)..]);
    }

    /// <summary>The argument as typed: <c>--name=VALUE</c>, <c>--name[=VALUE]</c> or <c>--name</c>.</summary>
    public override string ToString() => Value is null ? $"--{Name}" : Value.StartsWith('[') ? $"--{Name}{Value}" : $"--{Name}={Value}";
}

/// <summary>A target as help lists it: name, description, the arguments it reads, the targets that run first.</summary>
/// <param name="Name">The Cake task name.</param>
/// <param name="Description">One sentence: what it does.</param>
/// <param name="Arguments">The arguments the target itself reads (not those every target takes).</param>
/// <param name="DependsOn">The targets Cake runs before it, in order.</param>
public sealed record TargetUsage(string Name, string Description, IReadOnlyList<ArgumentUsage> Arguments, IReadOnlyList<string> DependsOn);

/// <summary>The text of <c>./build.sh --help</c> (the Help target): every target with its arguments, the default, the common arguments.</summary>
public static class HelpText
{
    /// <summary>Lines of help, at most about 110 columns; descriptions wrap under their target.</summary>
    /// <param name="targets">Every target, in the order to list them.</param>
    /// <param name="common">The arguments every target takes, with their meaning.</param>
    /// <param name="defaultTarget">The target run without --target, or null when the script does not say.</param>
    public static IReadOnlyList<string> Format(IReadOnlyList<TargetUsage> targets, IReadOnlyList<ArgumentUsage> common, string? defaultTarget)
    {
        var lines = new List<string> { "Usage: ./build.sh [--target=NAME] [arguments]" };
        if (defaultTarget is not null) lines.Add($"Without --target, {defaultTarget} runs.");
        lines.Add("Paths on the command line are relative to the directory you run ./build.sh from; paths inside the");
        lines.Add("configuration file are relative to that file.");
        lines.Add("");
        lines.Add("Targets:");
        var width = targets.Max(t => (t.Name == defaultTarget ? t.Name + " (default)" : t.Name).Length) + 2;
        foreach (var t in targets)
        {
            var name = t.Name == defaultTarget ? $"{t.Name} (default)" : t.Name;
            var text = t.Description;
            if (t.DependsOn.Count > 0) text += $" (runs {string.Join(", ", t.DependsOn)} first)";
            Wrap(lines, "  " + name.PadRight(width), text, 2 + width);
            if (t.Arguments.Count > 0) Wrap(lines, new string(' ', 2 + width), "arguments: " + string.Join(" ", t.Arguments), 2 + width);
        }
        lines.Add("");
        lines.Add("Arguments every target takes:");
        var argWidth = common.Max(a => a.ToString().Length) + 2;
        foreach (var a in common) Wrap(lines, "  " + a.ToString().PadRight(argWidth), a.Meaning, 2 + argWidth);
        lines.Add("");
        lines.Add("./build.sh --description lists the targets with their arguments too; README.md explains each one.");
        return lines;
    }

    private const int Columns = 110;

    private static void Wrap(List<string> lines, string head, string text, int indent)
    {
        var line = head;
        var empty = true;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > Columns)
            {
                lines.Add(line.TrimEnd());
                line = new string(' ', indent);
                empty = true;
            }
            line += (empty ? "" : " ") + word;
            empty = false;
        }
        lines.Add(line.TrimEnd());
    }
}
