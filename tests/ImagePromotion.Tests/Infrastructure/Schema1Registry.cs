using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePromotion.Registry;
using Microsoft.AspNetCore.Http;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>
/// A read-only registry serving one Docker schema 1 image the way distribution served them: <c>legacy/signed:1</c>
/// as <c>application/vnd.docker.distribution.manifest.v1+prettyjws</c>, signed in libtrust's JWS format (ES256,
/// <c>formatLength</c>/<c>formatTail</c> in the protected header), with <c>Docker-Content-Digest</c> the digest
/// of the payload without the signatures (distribution/distribution#1444), so it never matches the bytes.
/// Schema 2 registries cannot store schema 1 any more, hence a server of its own.
/// </summary>
public sealed class Schema1Registry : IAsyncDisposable
{
    public const string Repository = "legacy/signed";
    public const string SignedMediaType = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    private readonly byte[] _signed;
    private readonly Dictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private LoopbackWebHost _host = null!;

    private Schema1Registry()
    {
        var fsLayers = new JsonArray();
        var history = new JsonArray();
        string? parent = null;
        for (var i = 0; i < 2; i++)
        {
            var (_, gz) = TestImages.RandomLayer(i, 512);
            var digest = Digest.Sha256(gz);
            _blobs[digest.ToString()] = gz;
            var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"layer{i}")));
            var v1 = new JsonObject { ["id"] = id, ["created"] = "2016-01-01T00:00:00Z" };
            if (parent is not null) v1["parent"] = parent;
            fsLayers.Insert(0, new JsonObject { ["blobSum"] = digest.ToString() });
            history.Insert(0, new JsonObject { ["v1Compatibility"] = v1.ToJsonString() });
            parent = id;
        }
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 1, ["name"] = Repository, ["tag"] = "1", ["architecture"] = "amd64",
            ["fsLayers"] = fsLayers, ["history"] = history,
        };
        var payload = Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        // libtrust signs the payload up to its closing brace and records the cut in the protected header.
        var formatLength = payload.Length - 2;
        var protectedHeader = B64(JsonSerializer.SerializeToUtf8Bytes(new
        {
            formatLength, formatTail = B64(payload[formatLength..]), time = "2016-01-01T00:00:00Z",
        }));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = key.ExportParameters(false);
        var signature = key.SignData(Encoding.ASCII.GetBytes(protectedHeader + "." + B64(payload)), HashAlgorithmName.SHA256);
        var signatures = new JsonArray
        {
            new JsonObject
            {
                ["header"] = new JsonObject
                {
                    ["jwk"] = new JsonObject { ["crv"] = "P-256", ["kty"] = "EC", ["x"] = B64(parameters.Q.X!), ["y"] = B64(parameters.Q.Y!) },
                    ["alg"] = "ES256",
                },
                ["signature"] = B64(signature),
                ["protected"] = protectedHeader,
            },
        };
        _signed = [.. payload[..formatLength], .. Encoding.UTF8.GetBytes(",\n   \"signatures\": " + signatures.ToJsonString()), .. payload[formatLength..]];
        ServedDigest = Digest.Sha256(payload);
        BytesDigest = Digest.Sha256(_signed);
    }

    /// <summary>What the registry says the manifest's digest is (the payload's), which is what users copy around.</summary>
    public Digest ServedDigest { get; }
    /// <summary>The hash of the bytes actually served: never equal to <see cref="ServedDigest"/>.</summary>
    public Digest BytesDigest { get; }
    public string Host => _host.Host;

    public static async Task<Schema1Registry> StartAsync(CancellationToken cancellationToken = default)
    {
        var registry = new Schema1Registry();
        registry._host = await LoopbackWebHost.StartAsync(registry.HandleAsync, cancellationToken);
        return registry;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var prefix = $"/v2/{Repository}/";
        if (path == $"{prefix}manifests/1" || path == $"{prefix}manifests/{ServedDigest}")
        {
            context.Response.ContentType = SignedMediaType;
            context.Response.Headers["Docker-Content-Digest"] = ServedDigest.ToString();
            context.Response.ContentLength = _signed.Length;
            if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(_signed, context.RequestAborted);
            return;
        }
        if (path.StartsWith(prefix + "blobs/", StringComparison.Ordinal) && _blobs.TryGetValue(path[(prefix.Length + 6)..], out var blob))
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = blob.Length;
            if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(blob, context.RequestAborted);
            return;
        }
        context.Response.StatusCode = 404;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}""", context.RequestAborted);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
