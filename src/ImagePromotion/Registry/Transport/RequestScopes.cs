namespace ImagePromotion.Registry.Transport;

/// <summary>
/// The token scopes a request needs (<c>repository:app:pull,push</c>), carried on the request so the auth
/// handler can ask for exactly those. A cross-repository mount carries two: push on the target, pull on the source.
/// </summary>
public static class RequestScopes
{
    /// <summary>The request option the scopes are carried in.</summary>
    public static readonly HttpRequestOptionsKey<string[]> Key = new("image-promotion.scopes");

    /// <summary><c>repository:NAME:pull</c> (distribution token scope grammar).</summary>
    public static string Pull(string repository) => $"repository:{repository}:pull";
    /// <summary><c>repository:NAME:pull,push</c>.</summary>
    public static string Push(string repository) => $"repository:{repository}:pull,push";

    /// <summary>Sets the scopes the request needs; returns the request.</summary>
    public static HttpRequestMessage WithScopes(this HttpRequestMessage request, params string[] scopes)
    {
        request.Options.Set(Key, scopes);
        return request;
    }

    /// <summary>The scopes set on the request; empty when none.</summary>
    public static string[] Of(HttpRequestMessage request) =>
        request.Options.TryGetValue(Key, out var s) ? s : Array.Empty<string>();
}
