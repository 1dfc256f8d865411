namespace ImagePromotion.Tests.Recipe;

/// <summary>
/// A throwaway repository of another team: the files of examples/consumer (its short build.cake, build.sh,
/// tool manifest), its own promotion.yaml and a nuget.config naming the folder feed and the default source.
/// Nothing of this checkout's build/ folder is reachable from it: the recipe comes from the packages.
/// </summary>
internal sealed class ConsumerRepository
{
    private static readonly string[] ExampleFiles = ["build.cake", "build.sh", "cake.config", ".gitignore", ".config/dotnet-tools.json"];

    public string Directory { get; }
    public string Commit { get; private set; } = "";

    private ConsumerRepository(string directory) { Directory = directory; }

    public string CommitTag => Commit[..12];

    public static async Task<ConsumerRepository> CreateAsync(string repositoryRoot, string directory, string packageFolder,
        string promotionYaml, CancellationToken cancellationToken)
    {
        var example = Path.Combine(repositoryRoot, "examples", "consumer");
        foreach (var file in ExampleFiles)
        {
            var target = Path.Combine(directory, file);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(example, file), target);
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path.Combine(directory, "build.sh"), File.GetUnixFileMode(Path.Combine(example, "build.sh")));
        File.WriteAllText(Path.Combine(directory, "promotion.yaml"), promotionYaml);
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="image-promotion" value="{packageFolder}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
            </configuration>
            """);
        var repository = new ConsumerRepository(directory);
        await repository.GitAsync(cancellationToken, "init", "-q", "-b", "main");
        await repository.GitAsync(cancellationToken, "add", "-A");
        await repository.GitAsync(cancellationToken, "-c", "user.name=Consumer", "-c", "user.email=consumer@example.com", "commit", "-q", "-m", "Adopt the image promotion recipe");
        repository.Commit = (await repository.GitAsync(cancellationToken, "rev-parse", "HEAD")).Trim();
        return repository;
    }

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
