using System.Text.Json;

namespace ImagePromotion.Port;

/// <summary>
/// What Port's "Promote Image" action sends to promote-production.yml (deploy/port/promote-action.json):
/// <c>entity</c> is the running service the action ran on (its <c>image</c> relation is the staging
/// image), <c>production_runtime</c> the chosen production running service, <c>port_payload</c> the run
/// context. The workflow passes them as PORT_ENTITY, PORT_PRODUCTION_RUNTIME and PORT_PAYLOAD.
/// </summary>
public sealed record PortActionInputs
{
    /// <summary>The Port action run id (<c>port_payload.runId</c>), to report progress to.</summary>
    public string? RunId { get; init; }
    /// <summary>The running service the action was run on (the staging runtime).</summary>
    public string? SourceRuntime { get; init; }
    /// <summary>The image entity the source runtime runs: what gets promoted.</summary>
    public string? SourceImage { get; init; }
    /// <summary>The service entity the source runtime belongs to (its <c>service</c> relation).</summary>
    public string? Service { get; init; }
    /// <summary>The production running_service entity to point at the image.</summary>
    public string? ProductionRuntime { get; init; }
    /// <summary>The manifest path of the production runtime in the GitOps repository (properties.gitPath).</summary>
    public string? ProductionGitPath { get; init; }
    /// <summary>E-mail of the Port user who ran the action (<c>port_payload.trigger.by.user.email</c>).</summary>
    public string? TriggeredByEmail { get; init; }

    /// <summary>Reads <c>PORT_ENTITY</c>, <c>PORT_PRODUCTION_RUNTIME</c> and <c>PORT_PAYLOAD</c> (JSON, as the workflow passes them); missing or blank variables leave their fields null.</summary>
    /// <exception cref="PromotionException">A variable is set but not the JSON Port sends.</exception>
    public static PortActionInputs FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
        return Parse(Get("PORT_ENTITY"), Get("PORT_PRODUCTION_RUNTIME"), Get("PORT_PAYLOAD"));
    }

    /// <summary>Each argument may be null (not sent); one that is sent must be a JSON object.</summary>
    public static PortActionInputs Parse(string? entityJson, string? productionRuntimeJson, string? portPayloadJson)
    {
        using var entity = Object(entityJson, "entity", "PORT_ENTITY");
        using var production = Object(productionRuntimeJson, "production_runtime", "PORT_PRODUCTION_RUNTIME");
        using var payload = Object(portPayloadJson, "port_payload", "PORT_PAYLOAD");
        return new PortActionInputs
        {
            RunId = Path(payload, "runId"),
            SourceRuntime = Path(entity, "identifier"),
            SourceImage = Path(entity, "relations", "image"),
            Service = Path(entity, "relations", "service"),
            ProductionRuntime = Path(production, "identifier"),
            ProductionGitPath = Path(production, "properties", "gitPath"),
            TriggeredByEmail = Path(payload, "trigger", "by", "user", "email"),
        };
    }

    private static JsonDocument? Object(string? json, string input, string variable)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e)
        {
            throw new PromotionException($"workflow input '{input}' ({variable}) is not JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine}): start the workflow from Port's action, which sends the entity as JSON");
        }
        var kind = doc.RootElement.ValueKind;
        if (kind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new PromotionException($"workflow input '{input}' ({variable}) is JSON {kind}, not an object: start the workflow from Port's action");
        }
        return doc;
    }

    private static string? Path(JsonDocument? doc, params string[] path)
    {
        if (doc is null) return null;
        var node = doc.RootElement;
        foreach (var key in path)
        {
            if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(key, out node)) return null;
        }
        return node.ValueKind switch
        {
            JsonValueKind.String => string.IsNullOrWhiteSpace(node.GetString()) ? null : node.GetString(),
            JsonValueKind.Number => node.GetRawText(),
            _ => null,
        };
    }
}
