using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ImagePromotion.Tests.Recipe;

/// <summary>The recipe's source files in this checkout: the packaging projects and the .cake files they ship.</summary>
internal static partial class RecipeSource
{
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "build", "recipe.cake"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("build/recipe.cake not found above the test directory");
    }

    public static string ModuleVersion(string root) => ProjectVersion(Path.Combine(root, "src", "ImagePromotion", "ImagePromotion.csproj"));

    public static string RecipeVersion(string root) => ProjectVersion(Path.Combine(root, "build", "recipe", "ImagePromotion.Recipe.csproj"));

    /// <summary>The .cake files the recipe package ships, relative to build/ with forward slashes.</summary>
    public static IReadOnlyList<string> CakeFiles(string root)
    {
        var build = Path.Combine(root, "build");
        return new[] { "recipe.cake" }
            .Concat(Directory.GetFiles(Path.Combine(build, "lib"), "*.cake").Select(f => "lib/" + Path.GetFileName(f)))
            .Concat(Directory.GetFiles(Path.Combine(build, "phases"), "*.cake").Select(f => "phases/" + Path.GetFileName(f)))
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The files a script names in its <c>#load "…"</c> directives (file loads, not nuget: ones).</summary>
    public static IReadOnlyList<string> LocalLoads(string script) =>
        LoadDirective().Matches(script).Select(m => m.Groups[1].Value).Where(v => !v.Contains(':')).ToList();

    /// <summary>(package, version) of each <c>#addin</c>/<c>#load nuget:</c> directive of a script.</summary>
    public static IReadOnlyList<(string Directive, string Package, string Version)> NuGetDirectives(string script) =>
        NuGetDirective().Matches(script).Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value)).ToList();

    private static string ProjectVersion(string project) =>
        XDocument.Load(project).Descendants("Version").Select(e => e.Value.Trim()).Single();

    [GeneratedRegex(@"^#load\s+""?([^""\r\n]+?)""?\s*$", RegexOptions.Multiline)]
    private static partial Regex LoadDirective();

    [GeneratedRegex(@"^#(addin|load)\s+""?nuget:\?package=([^&""\s]+)&version=([^&""\s]+)", RegexOptions.Multiline)]
    private static partial Regex NuGetDirective();
}
