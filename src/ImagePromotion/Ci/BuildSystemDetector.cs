using System.Collections;

namespace ImagePromotion.Ci;

/// <summary>Chooses the build system from the variables each CI sets for every job.</summary>
public static class BuildSystemDetector
{
    /// <summary>GitHub Actions when <c>GITHUB_ACTIONS=true</c>, CodeBuild when <c>CODEBUILD_BUILD_ID</c> is set (both documented as set on every job), otherwise a local run.</summary>
    /// <param name="environment">The process environment (variable name to value).</param>
    /// <param name="options">Writer, working directory, git identity and file locations; defaults when null.</param>
    public static IBuildSystem Detect(IReadOnlyDictionary<string, string?> environment, BuildSystemOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        options ??= new BuildSystemOptions();
        var env = new EnvironmentReader(environment);
        // GitHub documents GITHUB_ACTIONS=true on every runner; CodeBuild sets CODEBUILD_BUILD_ID on every build.
        if (string.Equals(env["GITHUB_ACTIONS"], "true", StringComparison.OrdinalIgnoreCase))
            return new GitHubActionsBuildSystem(environment, options);
        if (!string.IsNullOrEmpty(env["CODEBUILD_BUILD_ID"]))
            return new CodeBuildBuildSystem(environment, options);
        return new LocalBuildSystem(environment, options);
    }

    /// <summary>The process environment as the dictionary <see cref="Detect"/> takes.</summary>
    public static IReadOnlyDictionary<string, string?> CurrentEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            result[(string)entry.Key] = entry.Value as string;
        return result;
    }
}

/// <summary>Reads variables treating unset and empty alike, as CI systems leave some empty.</summary>
internal readonly struct EnvironmentReader(IReadOnlyDictionary<string, string?> environment)
{
    public string? this[string name] =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
