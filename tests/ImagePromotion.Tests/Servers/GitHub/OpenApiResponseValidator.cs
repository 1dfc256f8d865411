using System.Text.Json;

namespace ImagePromotion.Tests.Servers.GitHub;

/// <summary>
/// Checks a JSON response against the response schema an OpenAPI 3.0 document gives for an operation:
/// every required property present, every present property of the documented JSON type (nullable
/// honoured), enums respected, all the way down, through $ref, allOf, anyOf and oneOf.
/// </summary>
internal sealed class OpenApiResponseValidator(JsonElement document)
{
    /// <summary>The documented status codes of an operation, e.g. "200", "405".</summary>
    public IReadOnlyList<string> StatusCodes(string method, string pathTemplate) =>
        Operation(method, pathTemplate).GetProperty("responses").EnumerateObject().Select(p => p.Name).ToArray();

    public IReadOnlyList<string> Validate(string method, string pathTemplate, int status, JsonElement body)
    {
        var responses = Operation(method, pathTemplate).GetProperty("responses");
        if (!responses.TryGetProperty(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response))
            return [$"{method} {pathTemplate}: status {status} is not documented"];
        response = Resolve(response);
        if (!response.TryGetProperty("content", out var content) || !content.TryGetProperty("application/json", out var media) || !media.TryGetProperty("schema", out var schema))
            return [];
        var errors = new List<string>();
        Check(schema, body, "$", errors);
        return errors;
    }

    private JsonElement Operation(string method, string pathTemplate)
    {
        if (!document.GetProperty("paths").TryGetProperty(pathTemplate, out var path) || !path.TryGetProperty(method.ToLowerInvariant(), out var operation))
            throw new ArgumentException($"{method} {pathTemplate} is not in the OpenAPI description");
        return operation;
    }

    private JsonElement Resolve(JsonElement schema)
    {
        while (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference))
        {
            var target = document;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
                target = target.GetProperty(part.Replace("~1", "/").Replace("~0", "~"));
            schema = target;
        }
        return schema;
    }

    private void Check(JsonElement schema, JsonElement value, string at, List<string> errors)
    {
        schema = Resolve(schema);
        if (value.ValueKind == JsonValueKind.Null)
        {
            var nullable = schema.TryGetProperty("nullable", out var n) && n.GetBoolean();
            var typed = schema.TryGetProperty("type", out _) || schema.TryGetProperty("allOf", out _) || schema.TryGetProperty("properties", out _);
            if (typed && !nullable) errors.Add($"{at}: null where the schema does not allow it");
            return;
        }
        if (schema.TryGetProperty("allOf", out var allOf))
            foreach (var part in allOf.EnumerateArray()) Check(part, value, at, errors);
        foreach (var keyword in new[] { "anyOf", "oneOf" })
        {
            if (!schema.TryGetProperty(keyword, out var alternatives)) continue;
            var failures = new List<string>();
            var matched = false;
            foreach (var alternative in alternatives.EnumerateArray())
            {
                var attempt = new List<string>();
                Check(alternative, value, at, attempt);
                if (attempt.Count == 0) { matched = true; break; }
                failures.Add(attempt[0]);
            }
            if (!matched) errors.Add($"{at}: matches none of the {keyword} alternatives ({string.Join(" | ", failures)})");
        }

        if (schema.TryGetProperty("type", out var typeElement))
        {
            var type = typeElement.GetString();
            var ok = type switch
            {
                "object" => value.ValueKind == JsonValueKind.Object,
                "array" => value.ValueKind == JsonValueKind.Array,
                "string" => value.ValueKind == JsonValueKind.String,
                "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
                "number" => value.ValueKind == JsonValueKind.Number,
                _ => true,
            };
            if (!ok) { errors.Add($"{at}: expected {type}, found {value.ValueKind}"); return; }
        }
        if (schema.TryGetProperty("enum", out var values) && value.ValueKind == JsonValueKind.String
            && !values.EnumerateArray().Any(v => v.ValueKind == JsonValueKind.String && v.GetString() == value.GetString()))
            errors.Add($"{at}: '{value.GetString()}' is not one of the documented values");

        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out var required))
                foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
                    if (!value.TryGetProperty(name, out _)) errors.Add($"{at}: required property '{name}' is missing");
            if (schema.TryGetProperty("properties", out var properties))
                foreach (var property in value.EnumerateObject())
                    if (properties.TryGetProperty(property.Name, out var propertySchema))
                        Check(propertySchema, property.Value, at + "." + property.Name, errors);
        }
        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray()) Check(items, item, $"{at}[{i++}]", errors);
        }
    }
}
