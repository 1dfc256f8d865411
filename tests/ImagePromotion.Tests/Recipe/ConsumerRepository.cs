namespace ImagePromotion.Tests.Recipe;

/// <summary>
/// A throwaway repository of another team, made by following step 2 of the README's "Adopt it in your
/// repository" (<see cref="AdopterSteps"/>): its setup commands run in the repository, its files written
/// as printed (nuget.config naming the test's package folder instead of the example feed), build.sh copied
/// from examples/consumer, plus the test's promotion.yaml. The repository sits in a folder whose
/// <c>.config/dotnet-tools.json</c> belongs to another checkout, as examples/consumer sits in this one:
/// the recipe must take the consumer's own manifest as its root. Nothing of this checkout's build/ folder is
/// reachable from it: the recipe comes from the packages.
/// </summary>
internal sealed class ConsumerRepository
{
    public string Directory { get; }
    public string Commit { get; private set; } = "";

    private ConsumerRepository(string directory) { Directory = directory; }

    public string CommitTag => Commit[..12];

    public static async Task<ConsumerRepository> CreateAsync(string repositoryRoot, string directory, string packageFolder,
        string promotionYaml, CancellationToken cancellationToken)
    {
        var outer = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(directory))!, ".config");
        System.IO.Directory.CreateDirectory(outer);
        File.Copy(Path.Combine(repositoryRoot, ".config", "dotnet-tools.json"), Path.Combine(outer, "dotnet-tools.json"), overwrite: true);

        var steps = AdopterSteps.Read(repositoryRoot);
        foreach (var command in steps.SetupCommands)
        {
            var run = await ConsumerProcess.RunAsync("bash", ["-c", command], directory, new Dictionary<string, string?>(), TimeSpan.FromMinutes(2), cancellationToken);
            if (run.ExitCode != 0) Assert.Fail($"README step 2, `{command}` exited {run.ExitCode}:\n{run.Output}");
        }
        var example = Path.Combine(repositoryRoot, "examples", "consumer", "build.sh");
        File.Copy(example, Path.Combine(directory, "build.sh"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(directory, "build.sh"), File.GetUnixFileMode(example));
        File.WriteAllText(Path.Combine(directory, "build.cake"), steps.BuildCake);
        File.WriteAllText(Path.Combine(directory, "cake.config"), steps.CakeConfig);
        File.WriteAllText(Path.Combine(directory, "nuget.config"), steps.NuGetConfigFor(packageFolder));
        File.WriteAllText(Path.Combine(directory, ".gitignore"), steps.GitIgnore);
        File.WriteAllText(Path.Combine(directory, "promotion.yaml"), promotionYaml);

        var repository = new ConsumerRepository(directory);
        await repository.GitAsync(cancellationToken, "init", "-q", "-b", "main");
        await repository.GitAsync(cancellationToken, "add", "-A");
        await repository.GitAsync(cancellationToken, "-c", "user.name=Consumer", "-c", "user.email=consumer@example.com", "commit", "-q", "-m", "Adopt the image promotion recipe");
        repository.Commit = (await repository.GitAsync(cancellationToken, "rev-parse", "HEAD")).Trim();
        return repository;
    }

    /// <summary>What git reports as changed or untracked (<c>git status --porcelain</c>), one line each.</summary>
    public async Task<string> UncommittedAsync(CancellationToken cancellationToken) =>
        (await GitAsync(cancellationToken, "status", "--porcelain", "--untracked-files=all")).Trim();

    /// <summary>Runs the consumer's ./build.sh, as its developers and CI do.</summary>
    public Task<ConsumerProcess.Result> BuildAsync(CancellationToken cancellationToken, params string[] arguments) =>
        ConsumerProcess.RunAsync(Path.Combine(Directory, "build.sh"), arguments, Directory,
            new Dictionary<string, string?>(), TimeSpan.FromMinutes(4), cancellationToken);

    private async Task<string> GitAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var run = await ConsumerProcess.RunAsync("git", arguments, Directory, new Dictionary<string, string?>(), TimeSpan.FromSeconds(30), cancellationToken);
        if (run.ExitCode != 0) Assert.Fail($"git {string.Join(' ', arguments)} exited {run.ExitCode}: {run.Output}");
        return run.Output;
    }
}
