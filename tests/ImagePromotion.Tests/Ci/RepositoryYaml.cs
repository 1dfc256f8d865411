using YamlDotNet.Serialization;

namespace ImagePromotion.Tests.Ci;

/// <summary>
/// Loads the repository's YAML (workflows, buildspecs, CloudFormation) as plain maps and lists.
/// CloudFormation's short-form functions are YAML tags; each is registered so that <c>!Ref X</c>
/// reads as the scalar "X" and <c>!Join [..]</c> as its list, instead of failing on an unknown tag.
/// </summary>
internal static class RepositoryYaml
{
    private static readonly string[] CloudFormationTags =
    [
        "!Ref", "!Sub", "!GetAtt", "!Join", "!Select", "!Split", "!If", "!Equals", "!And", "!Or", "!Not",
        "!FindInMap", "!ImportValue", "!Base64", "!Cidr", "!GetAZs", "!Condition", "!Transform",
    ];

    private static readonly IDeserializer Deserializer = Build();

    private static IDeserializer Build()
    {
        var builder = new DeserializerBuilder();
        foreach (var tag in CloudFormationTags) builder = builder.WithTagMapping(tag, typeof(object));
        return builder.Build();
    }

    public static Dictionary<object, object?> Load(string relativePath)
    {
        var path = RepositoryRoot.File(relativePath);
        using var reader = new StreamReader(path);
        return Deserializer.Deserialize<Dictionary<object, object?>>(reader)
            ?? throw new InvalidDataException(relativePath + " is empty");
    }

    public static Dictionary<object, object?> Map(this object? node, string key) =>
        node is Dictionary<object, object?> map && map.TryGetValue(key, out var value) && value is Dictionary<object, object?> child
            ? child
            : throw new KeyNotFoundException($"no map '{key}'");

    public static List<object?> List(this object? node, string key) =>
        node is Dictionary<object, object?> map && map.TryGetValue(key, out var value) && value is List<object?> child
            ? child
            : throw new KeyNotFoundException($"no list '{key}'");

    public static string? Text(this object? node, string key) =>
        node is Dictionary<object, object?> map && map.TryGetValue(key, out var value) ? value?.ToString() : null;

    public static bool Has(this object? node, string key) =>
        node is Dictionary<object, object?> map && map.ContainsKey(key);
}

/// <summary>The Cake targets build.sh knows (build/build.cake).</summary>
internal static class PipelineTargets
{
    public static readonly string[] All =
    [
        "BuildOnce", "PushDev", "Scan", "PromoteStaging", "PromoteProduction", "ReleaseTag", "Rollback", "Copy", "UpdateManifest", "Evidence",
    ];
}
