using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ImagePromotion.Port;

/// <summary>How a Port action run ended; Port spells these SUCCESS and FAILURE.</summary>
public enum PortRunStatus
{
    /// <summary>The run succeeded (<c>SUCCESS</c>).</summary>
    Success,
    /// <summary>The run failed (<c>FAILURE</c>).</summary>
    Failure,
}

/// <summary>A catalog entity as Port's entities API returns and accepts it.</summary>
public sealed record PortEntity
{
    /// <summary>The entity's unique identifier within its blueprint.</summary>
    [JsonPropertyName("identifier")] public required string Identifier { get; init; }
    /// <summary>Display title.</summary>
    [JsonPropertyName("title")] public string? Title { get; init; }
    /// <summary>The blueprint identifier (<c>running_service</c>, <c>image</c>).</summary>
    [JsonPropertyName("blueprint")] public string? Blueprint { get; init; }
    /// <summary>Property identifier to value, as the blueprint defines them.</summary>
    [JsonPropertyName("properties")] public JsonObject Properties { get; init; } = new();
    /// <summary>Relation identifier to the related entity identifier (a string), or an array for many-relations.</summary>
    [JsonPropertyName("relations")] public JsonObject Relations { get; init; } = new();

    /// <summary>A single relation's target, e.g. <c>Relation("image")</c> on a running_service.</summary>
    public string? Relation(string name) =>
        Relations.TryGetPropertyValue(name, out var node) && node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

    /// <summary>A string property's value; null when absent or not a string.</summary>
    public string? Property(string name) =>
        Properties.TryGetPropertyValue(name, out var node) && node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}

internal sealed record AccessTokenRequest(
    [property: JsonPropertyName("clientId")] string ClientId,
    [property: JsonPropertyName("clientSecret")] string ClientSecret);

internal sealed record AccessTokenResponse(
    [property: JsonPropertyName("accessToken")] string? AccessToken,
    [property: JsonPropertyName("expiresIn")] double ExpiresIn,
    [property: JsonPropertyName("tokenType")] string? TokenType);

internal sealed record RunLogRequest(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("terminationStatus"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TerminationStatus,
    [property: JsonPropertyName("statusLabel"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StatusLabel);

internal sealed record RunPatchRequest(
    [property: JsonPropertyName("status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status,
    [property: JsonPropertyName("statusLabel"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StatusLabel,
    [property: JsonPropertyName("link"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Link,
    [property: JsonPropertyName("summary"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Summary);

internal sealed record EntityRequest(
    [property: JsonPropertyName("identifier")] string Identifier,
    [property: JsonPropertyName("title"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Title,
    [property: JsonPropertyName("properties")] JsonObject Properties,
    [property: JsonPropertyName("relations")] JsonObject Relations);

internal sealed record EntityResponse([property: JsonPropertyName("entity")] PortEntity? Entity);

internal static class PortJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Wire(this PortRunStatus status) => status switch
    {
        PortRunStatus.Success => "SUCCESS",
        PortRunStatus.Failure => "FAILURE",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}
