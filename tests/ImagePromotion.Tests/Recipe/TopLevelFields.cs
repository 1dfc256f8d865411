using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.Recipe;

/// <summary>
/// Finds the non-static fields a .cake file declares at top level. `#load nuget:` analyses a package's .cake
/// files in the order its installer lists them, so a phase's top-level statements may run before the host's
/// field initialisers: a static field is initialised on first use, a non-static one is still null then.
/// </summary>
internal static partial class TopLevelFields
{
    public static IReadOnlyList<string> NonStatic(string script)
    {
        var found = new List<string>();
        var depth = 0;
        foreach (var raw in script.Split('\n'))
        {
            var line = StringLiteral().Replace(raw, "\"\"").TrimEnd();
            var code = line.Split("//")[0];
            if (depth == 0 && !code.StartsWith(' ') && !code.StartsWith("using ", StringComparison.Ordinal)
                && !Regex.IsMatch(code, @"\bstatic\b") && FieldDeclaration().IsMatch(code))
                found.Add(raw.Trim());
            depth += code.Count(c => c == '{') - code.Count(c => c == '}');
        }
        return found;
    }

    // A type (generic, array, nullable or qualified) and a name, then an initialiser or the end of the declaration.
    [GeneratedRegex(@"^(?:(?:public|private|internal|protected|readonly)\s+)*[\w.]+(?:<[^()]*>)?(?:\[\])?\??\s+\w+\s*(?:=(?!>)|;)")]
    private static partial Regex FieldDeclaration();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex StringLiteral();
}
