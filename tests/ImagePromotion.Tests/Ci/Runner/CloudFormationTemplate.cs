using YamlDotNet.RepresentationModel;

namespace ImagePromotion.Tests.Ci.Runner;

/// <summary>
/// A CloudFormation template as CloudFormation resolves it for the parts a pipeline run reads: <c>!Ref</c> of a
/// parameter (the given value, else its Default), of a pseudo parameter (AWS::Region, AWS::AccountId,
/// AWS::StackName, AWS::Partition) or of a CodeBuild project (its Name, as CloudFormation returns it), and
/// <c>!Sub</c> with those in <c>${…}</c>. Any other intrinsic function met on the way throws.
/// </summary>
internal sealed class CloudFormationTemplate
{
    private sealed record Intrinsic(string Tag, object? Value);

    private readonly Dictionary<string, object?> _root;
    private readonly IReadOnlyDictionary<string, string> _parameters;
    private readonly IReadOnlyDictionary<string, string> _pseudo;

    public CloudFormationTemplate(string path, IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> pseudoParameters)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path)) yaml.Load(reader);
        _root = (Dictionary<string, object?>)Convert(yaml.Documents[0].RootNode)!;
        _parameters = parameters;
        _pseudo = pseudoParameters;
    }

    public Dictionary<string, object?> Resources => Map(_root["Resources"]);

    /// <summary>The resources of a type, by logical id.</summary>
    public IEnumerable<(string Id, Dictionary<string, object?> Properties)> OfType(string type) =>
        Resources.Where(r => Resolve(Map(r.Value)["Type"]) as string == type).Select(r => (r.Key, Map(Map(r.Value)["Properties"])));

    /// <summary>A node with every intrinsic function in it resolved; maps and lists stay maps and lists.</summary>
    public object? Resolve(object? node) => node switch
    {
        Intrinsic { Tag: "!Ref" } i => Ref((string)i.Value!),
        Intrinsic { Tag: "!Sub", Value: string text } => Sub(text),
        Intrinsic i => throw new RunnerException($"CloudFormation {i.Tag} is not implemented by this runner"),
        Dictionary<string, object?> map when map.Keys.Any(k => k.StartsWith("Fn::", StringComparison.Ordinal)) =>
            throw new RunnerException($"CloudFormation long-form {map.Keys.First()} is not implemented by this runner"),
        Dictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => Resolve(kv.Value)),
        List<object?> list => list.Select(Resolve).ToList(),
        _ => node,
    };

    public string Text(object? node) => Resolve(node) as string ?? throw new RunnerException("expected a string in the template");

    public static Dictionary<string, object?> Map(object? node) =>
        node as Dictionary<string, object?> ?? throw new RunnerException("expected a map in the template");

    private string Ref(string name)
    {
        if (_pseudo.TryGetValue(name, out var pseudo)) return pseudo;
        if (_parameters.TryGetValue(name, out var given)) return given;
        if (_root.TryGetValue("Parameters", out var ps) && Map(ps).TryGetValue(name, out var p))
            return Map(p).TryGetValue("Default", out var d) && d is string def ? def : throw new RunnerException($"parameter {name} has no value and no Default");
        if (Resources.TryGetValue(name, out var resource))
        {
            var r = Map(resource);
            return Resolve(r["Type"]) as string == "AWS::CodeBuild::Project"
                ? Text(Map(r["Properties"])["Name"])
                : throw new RunnerException($"!Ref of a {Resolve(r["Type"])} is not implemented by this runner");
        }
        throw new RunnerException($"!Ref {name}: no such parameter or resource");
    }

    private string Sub(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\$\{([^}!]+)\}", m =>
        m.Groups[1].Value.Contains('.') && !m.Groups[1].Value.StartsWith("AWS::", StringComparison.Ordinal)
            ? throw new RunnerException($"!Sub ${{{m.Groups[1].Value}}}: attributes are not implemented by this runner")
            : Ref(m.Groups[1].Value));

    private static object? Convert(YamlNode node)
    {
        var tag = node.Tag.IsEmpty ? null : node.Tag.Value;
        if (tag is "!" or null || tag.StartsWith("tag:yaml.org", StringComparison.Ordinal)) tag = null;
        object? value = node switch
        {
            YamlScalarNode s => s.Value,
            YamlSequenceNode q => q.Children.Select(Convert).ToList(),
            YamlMappingNode m => m.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => Convert(kv.Value)),
            _ => throw new RunnerException($"unexpected YAML node {node.NodeType}"),
        };
        return tag is null ? value : new Intrinsic(tag, value);
    }
}
