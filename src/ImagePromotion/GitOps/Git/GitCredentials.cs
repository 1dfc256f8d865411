using System.Text;
using ImagePromotion.Logging;

namespace ImagePromotion.GitOps.Git;

/// <summary>
/// An HTTPS token for the GitOps remote. git receives it as an <c>http.&lt;origin&gt;.extraHeader</c> set
/// through <c>GIT_CONFIG_COUNT/KEY/VALUE</c> environment variables: never in the remote URL (git would
/// store it in .git/config and print it in errors), never in argv (visible in the process list), never on
/// disk, and scoped to the remote's origin so a redirect or submodule elsewhere does not receive it.
/// </summary>
public sealed class GitCredentials
{
    /// <summary>GitHub's user name for installation and personal-access tokens sent with Basic auth.</summary>
    public const string GitHubTokenUser = "x-access-token";

    /// <summary>No token: git uses whatever the remote needs without one (a file:// path, an SSH agent).</summary>
    public static GitCredentials None { get; } = new(null, null, null);

    private readonly string? _origin;
    private readonly string? _header;

    private GitCredentials(string? origin, string? header, string? user)
    {
        _origin = origin;
        _header = header;
        User = user;
    }

    /// <summary>The Basic-auth user name sent with the token (<see cref="GitHubTokenUser"/> for GitHub); null without a token.</summary>
    public string? User { get; }
    /// <summary>True when a token will be sent.</summary>
    public bool HasToken => _header != null;

    /// <summary>A token for every HTTPS request git makes to <paramref name="remoteUrl"/>'s scheme, host and port.</summary>
    public static GitCredentials ForToken(string remoteUrl, string? token, string user = GitHubTokenUser)
    {
        if (string.IsNullOrEmpty(token)) return None;
        SecretRedactor.Shared.Add(token);
        if (!Uri.TryCreate(remoteUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw new PromotionException($"A git token was given but the GitOps remote '{GitRemoteUrl.Describe(remoteUrl)}' is not an http(s) URL; use an https:// remote or drop the token.");
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + token));
        // The encoded form is as good as the token itself, so it is a secret too.
        SecretRedactor.Shared.Add(basic);
        var origin = uri.GetLeftPart(UriPartial.Authority) + "/";
        return new GitCredentials(origin, "Authorization: Basic " + basic, user);
    }

    internal void Apply(IDictionary<string, string?> environment)
    {
        if (_header == null) return;
        var start = environment.TryGetValue("GIT_CONFIG_COUNT", out var existing) && int.TryParse(existing, out var n) ? n : 0;
        var entries = new (string Key, string Value)[]
        {
            ("http." + _origin + ".extraHeader", _header),
            // An empty helper list keeps git from asking a stored credential helper, and from saving anything in it.
            ("credential.helper", ""),
        };
        for (var i = 0; i < entries.Length; i++)
        {
            environment["GIT_CONFIG_KEY_" + (start + i)] = entries[i].Key;
            environment["GIT_CONFIG_VALUE_" + (start + i)] = entries[i].Value;
        }
        environment["GIT_CONFIG_COUNT"] = (start + entries.Length).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Checks and describes remote URLs without ever echoing embedded credentials.</summary>
public static class GitRemoteUrl
{
    /// <summary>The URL with any user-info removed, safe to print.</summary>
    public static string Describe(string remoteUrl)
    {
        if (Uri.TryCreate(remoteUrl, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.UserInfo))
            return new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString();
        return SecretRedactor.Shared.Redact(remoteUrl);
    }

    /// <summary>Credentials in the URL would be written to .git/config and echoed by git; refuse them.</summary>
    public static void EnsureNoCredentials(string remoteUrl)
    {
        if (Uri.TryCreate(remoteUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.UserInfo))
        {
            // Whatever sat there may be a token: make sure it can never be printed.
            SecretRedactor.Shared.Add(Uri.UnescapeDataString(uri.UserInfo));
            foreach (var part in uri.UserInfo.Split(':')) SecretRedactor.Shared.Add(Uri.UnescapeDataString(part));
            throw new PromotionException($"The GitOps remote '{Describe(remoteUrl)}' carries credentials in its URL; remove them and pass the token separately (it is then sent as an HTTP header and never stored).");
        }
    }
}
