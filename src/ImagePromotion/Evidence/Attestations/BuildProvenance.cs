using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImagePromotion.Evidence.Attestations;

/// <summary>What the build job knows about the build it vouches for.</summary>
public sealed record BuildFacts
{
    /// <summary>Who built: the CI workflow or project (see <see cref="BuildProvenance.BuilderIdFromEnvironment"/>).</summary>
    public required string BuilderId { get; init; }
    /// <summary>The full commit SHA the image was built from.</summary>
    public required string Commit { get; init; }
    /// <summary>The source repository (a URL), when the CI says.</summary>
    public string? SourceRepository { get; init; }
    /// <summary>The branch or ref, when known.</summary>
    public string? Ref { get; init; }
    /// <summary>The build context and Containerfile, relative to the repository.</summary>
    public string? Context { get; init; }
    /// <summary>The Containerfile, relative to the repository (null: the context's default <c>Containerfile</c>/<c>Dockerfile</c>).</summary>
    public string? Containerfile { get; init; }
    /// <summary>The tool that built (buildah, docker).</summary>
    public string? Tool { get; init; }
    /// <summary>The CI run (a URL), when there is one.</summary>
    public string? InvocationId { get; init; }
}

/// <summary>
/// Build provenance in SLSA provenance v1 form (https://slsa.dev/spec/v1.0/provenance): the build definition (our build
/// type, the source and its commit as a resolved dependency) and the run details (builder id, invocation). It holds no
/// clock time, so the same build gives the same statement and a re-run of PushDev attaches nothing new.
/// </summary>
public static class BuildProvenance
{
    /// <summary>The SLSA <c>buildDefinition.buildType</c> URI naming how BuildOnce builds: what a verifier reads to interpret the external parameters.</summary>
    public const string BuildType = "https://imagepromotion.dev/buildtypes/build-once/v1";

    /// <summary>The SLSA provenance v1 predicate JSON for <paramref name="facts"/>: the same facts give the same bytes (no clock time in it).</summary>
    public static byte[] Predicate(BuildFacts facts)
    {
        var external = new JsonObject { ["commit"] = facts.Commit };
        if (facts.SourceRepository is { } repo) external["repository"] = repo;
        if (facts.Ref is { } r) external["ref"] = r;
        if (facts.Context is { } c) external["context"] = c;
        if (facts.Containerfile is { } f) external["containerfile"] = f;
        var dependency = new JsonObject
        {
            ["uri"] = "git+" + (facts.SourceRepository ?? "unknown") + (facts.Ref is { } reference ? "@" + reference : ""),
            ["digest"] = new JsonObject { ["gitCommit"] = facts.Commit },
        };
        var metadata = new JsonObject();
        if (facts.InvocationId is { } run) metadata["invocationId"] = run;
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["buildDefinition"] = new JsonObject
            {
                ["buildType"] = BuildType,
                ["externalParameters"] = external,
                ["internalParameters"] = facts.Tool is null ? new JsonObject() : new JsonObject { ["tool"] = facts.Tool },
                ["resolvedDependencies"] = new JsonArray(dependency),
            },
            ["runDetails"] = new JsonObject
            {
                ["builder"] = new JsonObject { ["id"] = facts.BuilderId },
                ["metadata"] = metadata,
            },
        });
    }

    /// <summary>
    /// The builder id of this run: on GitHub Actions the workflow file at its ref (<c>GITHUB_WORKFLOW_REF</c>, as GitHub's
    /// own provenance names it), on CodeBuild the project's build ARN (<c>CODEBUILD_BUILD_ARN</c> without the build id),
    /// elsewhere <c>local:</c> and the identity.
    /// </summary>
    public static string BuilderIdFromEnvironment(IReadOnlyDictionary<string, string?> env, string identity)
    {
        string? V(string name) => env.GetValueOrDefault(name) is { Length: > 0 } v ? v.Trim() : null;
        if (V("GITHUB_ACTIONS") == "true" && V("GITHUB_WORKFLOW_REF") is { } workflow)
            return (V("GITHUB_SERVER_URL") ?? "https://github.com").TrimEnd('/') + "/" + workflow;
        if (V("CODEBUILD_BUILD_ARN") is { } arn)
            return arn.LastIndexOf(':') is var i and > 0 && arn[..i].Contains("build/", StringComparison.Ordinal) ? arn[..i] : arn;
        return "local:" + identity;
    }

    /// <summary>The source repository URL of this run, when the CI says (GitHub, CodeBuild).</summary>
    public static string? SourceRepositoryFromEnvironment(IReadOnlyDictionary<string, string?> env)
    {
        string? V(string name) => env.GetValueOrDefault(name) is { Length: > 0 } v ? v.Trim() : null;
        if (V("GITHUB_REPOSITORY") is { } repo) return (V("GITHUB_SERVER_URL") ?? "https://github.com").TrimEnd('/') + "/" + repo;
        return V("CODEBUILD_SOURCE_REPO_URL");
    }

    /// <summary>The builder id a predicate names, or null.</summary>
    public static string? BuilderId(JsonElement predicate) =>
        predicate.TryGetProperty("runDetails", out var run) && run.ValueKind == JsonValueKind.Object
        && run.TryGetProperty("builder", out var b) && b.ValueKind == JsonValueKind.Object
        && b.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    /// <summary>"repository@commit" as the predicate names them, or null.</summary>
    public static string? SourceSummary(JsonElement predicate)
    {
        if (!predicate.TryGetProperty("buildDefinition", out var def) || def.ValueKind != JsonValueKind.Object
            || !def.TryGetProperty("externalParameters", out var ext) || ext.ValueKind != JsonValueKind.Object) return null;
        string S(string n) => ext.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        return (S("repository") is { Length: > 0 } repo ? repo : "(repository)") + "@" + S("commit");
    }
}
