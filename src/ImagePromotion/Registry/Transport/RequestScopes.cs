namespace ImagePromotion.Registry.Transport;

/// <summary>
/// The token scopes a request needs (<c>repository:app:pull,push</c>), carried on the request so the auth
/// handler can ask for exactly those. A cross-repository mount carries two: push on the target, pull on the source.
/// </summary>
public static class RequestScopes
{
    public static readonly HttpRequestOptionsKey<string[]> Key = new("image-promotion.scopes");

    public static string Pull(string repository) => $"repository:{repository}:pull";
    public static string Push(string repository) => $"repository:{repository}:pull,push";

    public static HttpRequestMessage WithScopes(this HttpRequestMessage request, params string[] scopes)
    {
        request.Options.Set(Key, scopes);
        return request;
    }

    public static string[] Of(HttpRequestMessage request) =>
        request.Options.TryGetValue(Key, out var s) ? s : Array.Empty<string>();
}
