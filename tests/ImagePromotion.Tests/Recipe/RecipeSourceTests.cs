namespace ImagePromotion.Tests.Recipe;

/// <summary>The recipe as shipped: versions in step, the same .cake files here and in the package, load-order safe.</summary>
[TestFixture]
public sealed class RecipeSourceTests
{
    private static readonly string Root = RecipeSource.RepositoryRoot();

    [Test]
    public void The_module_the_recipe_and_the_sample_consumer_name_one_version()
    {
        var version = RecipeSource.ModuleVersion(Root);
        Assert.That(RecipeSource.RecipeVersion(Root), Is.EqualTo(version), "build/recipe/ImagePromotion.Recipe.csproj <Version> must match src/ImagePromotion/ImagePromotion.csproj");
        var directives = RecipeSource.NuGetDirectives(File.ReadAllText(Path.Combine(Root, "examples", "consumer", "build.cake")));
        Assert.That(directives, Is.EqualTo(new[] { ("addin", "ImagePromotion", version), ("load", "ImagePromotion.Recipe", version) }));
    }

    [Test]
    public void The_sample_consumer_holds_the_files_the_README_prints()
    {
        // examples/consumer is the README's step 2 done; comment lines aside, its files are the printed ones.
        var steps = AdopterSteps.Read(Root);
        string Example(string file, string comment) => string.Join('\n', File.ReadAllLines(Path.Combine(Root, "examples", "consumer", file))
            .Where(l => !l.TrimStart().StartsWith(comment, StringComparison.Ordinal))).Trim();
        Assert.That(Example("build.cake", "//"), Is.EqualTo(steps.BuildCake.Trim()));
        Assert.That(Example("cake.config", ";"), Is.EqualTo(steps.CakeConfig.Trim()));
        Assert.That(Example(".gitignore", "#"), Is.EqualTo(steps.GitIgnore.Trim()));
    }

    [Test]
    public void Recipe_cake_loads_every_file_the_package_ships()
    {
        // A consumer's #load nuget: analyses every .cake file of the package; this repository loads recipe.cake.
        // Both must see the same set, or a phase works here and not there (or the other way round).
        var loads = RecipeSource.LocalLoads(File.ReadAllText(Path.Combine(Root, "build", "recipe.cake")));
        Assert.That(loads.Order(StringComparer.Ordinal), Is.EqualTo(RecipeSource.CakeFiles(Root).Where(f => f != "recipe.cake")));
    }

    [Test]
    public void Every_top_level_field_of_the_recipe_is_static()
    {
        foreach (var file in RecipeSource.CakeFiles(Root))
            Assert.That(TopLevelFields.NonStatic(File.ReadAllText(Path.Combine(Root, "build", file))), Is.Empty,
                $"build/{file}: make the field static (Cake may run a phase file before the host's initialisers)");
    }

    [Test]
    public void The_field_scan_tells_static_from_non_static_declarations()
    {
        const string script = """
            using Alias = System.Text.StringBuilder;
            static readonly List<string> Known = new();
            public static bool PlanOnly { get; } = true;
            public static string Session;
            var target = Argument("target", "Default");
            List<string> Items = new();
            private readonly Dictionary<string, int> Counts = new();
            string Name;
            string Root => "x";
            string Path() => "x";
            Phase("A", "a", async () =>
            {
                var inner = 1;
            });
            Task("B").Does(() => Information("{0}", 1));
            """;
        Assert.That(TopLevelFields.NonStatic(script), Is.EqualTo(new[]
        {
            "var target = Argument(\"target\", \"Default\");",
            "List<string> Items = new();",
            "private readonly Dictionary<string, int> Counts = new();",
            "string Name;",
        }));
    }
}
