using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;

namespace ImagePromotion.Tests.Recipe;

/// <summary>
/// The two packages a consumer repository loads, packed from this checkout into a folder feed:
/// <c>ImagePromotion</c> (the module, an addin) and <c>ImagePromotion.Recipe</c> (the .cake files as content).
/// </summary>
internal sealed class RecipePackages
{
    public string Folder { get; }
    public string Version { get; }

    private RecipePackages(string folder, string version) { Folder = folder; Version = version; }

    public string ModulePackage => Path.Combine(Folder, $"ImagePromotion.{Version}.nupkg");
    public string RecipePackage => Path.Combine(Folder, $"ImagePromotion.Recipe.{Version}.nupkg");

    public static async Task<RecipePackages> PackAsync(string repositoryRoot, string folder, CancellationToken cancellationToken)
    {
        var version = RecipeSource.ModuleVersion(repositoryRoot);
        // The test run has just built the module in its own configuration: pack that build instead of
        // compiling it again (a cold Release build costs most of a minute on this machine).
        var configuration = typeof(RecipePackages).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var module = Path.Combine(repositoryRoot, "src", "ImagePromotion", "ImagePromotion.csproj");
        var built = File.Exists(Path.Combine(repositoryRoot, "src", "ImagePromotion", "bin", configuration, "net10.0", "ImagePromotion.dll"));
        var moduleArguments = new List<string> { "pack", module, "-c", configuration, "-o", folder, "-nologo" };
        if (built) moduleArguments.Add("--no-build");
        await DotNetAsync(moduleArguments, repositoryRoot, cancellationToken);
        await DotNetAsync(["pack", Path.Combine(repositoryRoot, "build", "recipe", "ImagePromotion.Recipe.csproj"), "-o", folder, "-nologo"],
            repositoryRoot, cancellationToken);
        return new RecipePackages(folder, version);
    }

    /// <summary>The file names inside a package, with forward slashes.</summary>
    public static IReadOnlyList<string> Entries(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        return zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToList();
    }

    /// <summary>The dependencies the package's nuspec declares, as id → version range.</summary>
    public static IReadOnlyDictionary<string, string> Dependencies(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = nuspec.Open();
        var document = XDocument.Load(stream);
        return document.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
    }

    private static async Task DotNetAsync(IReadOnlyList<string> arguments, string workingDirectory, CancellationToken cancellationToken)
    {
        var run = await ConsumerProcess.RunAsync("dotnet", arguments, workingDirectory, new Dictionary<string, string?>(), TimeSpan.FromMinutes(3), cancellationToken);
        if (run.ExitCode != 0) Assert.Fail($"dotnet {string.Join(' ', arguments)} exited {run.ExitCode}:\n{run.Output}");
    }
}
