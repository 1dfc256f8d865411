using System.Text.RegularExpressions;

namespace ImagePromotion.Registry;

/// <summary>
/// An image reference normalised as Docker does: <c>nginx</c> is <c>docker.io/library/nginx:latest</c>,
/// a first component with a dot, a colon or the name <c>localhost</c> is a registry host, and a tag and
/// a digest may stand together (<c>repo:tag@sha256:…</c>, where the digest wins when pulling).
/// </summary>
public sealed partial record ImageReference
{
    /// <summary>Docker Hub's registry name, used when a reference names no registry.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>Registry host with optional port, e.g. <c>127.0.0.1:5000</c> or <c>docker.io</c>.</summary>
    public string Registry { get; }
    /// <summary>Repository path inside the registry, e.g. <c>library/nginx</c>.</summary>
    public string Repository { get; }
    /// <summary>The tag, if the reference has one (at most 128 characters of letters, digits, <c>_</c>, <c>.</c>, <c>-</c>).</summary>
    public string? Tag { get; }
    /// <summary>The manifest digest, if the reference is pinned (<c>@sha256:…</c>).</summary>
    public Digest? Digest { get; }

    private ImageReference(string registry, string repository, string? tag, Digest? digest)
    {
        Registry = registry; Repository = repository; Tag = tag; Digest = digest;
    }

    /// <summary>The host the distribution API is served on (Docker Hub's API lives on another name).</summary>
    public string ApiHost => Profiles.RegistryProfiles.ApiHost(Registry);

    /// <summary>What to ask the registry for: the digest when there is one, else the tag (default <c>latest</c>).</summary>
    public string Identifier => Digest?.ToString() ?? Tag ?? "latest";

    /// <summary><c>registry/repository</c>, without tag or digest.</summary>
    public string Name => Registry + "/" + Repository;

    /// <summary>The same repository at <paramref name="tag"/>, without a digest.</summary>
    /// <exception cref="PromotionException">The tag is not a valid OCI tag.</exception>
    public ImageReference WithTag(string tag)
    {
        if (!TagShape().IsMatch(tag)) throw new PromotionException($"invalid tag '{tag}': use letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'");
        return new(Registry, Repository, tag, null);
    }

    /// <summary>The same repository pinned at <paramref name="digest"/>, without a tag.</summary>
    public ImageReference WithDigest(Digest digest) => new(Registry, Repository, null, digest);

    /// <summary>The same repository with both a tag (for display) and a digest (what is fetched).</summary>
    public ImageReference WithTagAndDigest(string? tag, Digest digest) => new(Registry, Repository, tag, digest);

    /// <summary><c>registry/repository[:tag][@digest]</c>, normalised (<c>docker.io/library/nginx:latest</c>).</summary>
    public override string ToString()
    {
        var s = Name;
        if (Tag is not null) s += ":" + Tag;
        if (Digest is not null) s += "@" + Digest;
        return s;
    }

    /// <summary>True when the registry is a loopback address, where Docker allows plain HTTP.</summary>
    public bool IsLoopback => IsLoopbackHost(Registry);

    /// <summary>True for <c>localhost</c> and loopback IP addresses (<c>127.0.0.1</c>, <c>[::1]</c>), with or without a port.</summary>
    public static bool IsLoopbackHost(string registry)
    {
        var host = registry;
        if (host.StartsWith('['))
        {
            var end = host.IndexOf(']');
            host = end > 0 ? host[1..end] : host;
        }
        else
        {
            var colon = host.LastIndexOf(':');
            if (colon > 0) host = host[..colon];
        }
        if (host == "localhost") return true;
        return System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip);
    }

    /// <summary>As <see cref="Parse"/>, false instead of an exception.</summary>
    public static bool TryParse(string? text, out ImageReference? reference)
    {
        try { reference = Parse(text!); return true; }
        catch (PromotionException) { reference = null; return false; }
    }

    /// <summary>Parses and normalises a reference as Docker does (<c>nginx</c> → <c>docker.io/library/nginx</c>; the tag defaults to none, see <see cref="Identifier"/>).</summary>
    /// <exception cref="PromotionException">Empty, whitespace, or a name, tag or digest the distribution spec does not allow (the message names the part).</exception>
    public static ImageReference Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw Invalid(text ?? "", "it is empty");
        if (text != text.Trim() || text.Any(char.IsWhiteSpace))
            throw Invalid(text, "it contains white space");
        if (text.Contains("://"))
            throw Invalid(text, "leave out the scheme (write registry.example.com/app:tag, not https://…)");

        var rest = text;
        Digest? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            var d = rest[(at + 1)..];
            if (!ImagePromotion.Registry.Digest.TryParse(d, out var parsed))
                throw Invalid(text, $"'{d}' is not a digest (expected sha256:<64 lowercase hex>)");
            digest = parsed;
            rest = rest[..at];
        }

        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagShape().IsMatch(tag))
                throw Invalid(text, $"'{tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')");
        }

        string registry;
        string repository;
        var firstSlash = rest.IndexOf('/');
        var first = firstSlash < 0 ? null : rest[..firstSlash];
        if (first is not null && (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsUpper)))
        {
            registry = first;
            repository = rest[(firstSlash + 1)..];
            if (!RegistryShape().IsMatch(registry))
                throw Invalid(text, $"'{registry}' is not a valid registry host[:port]");
        }
        else
        {
            registry = DockerHub;
            repository = rest;
        }
        registry = Profiles.RegistryProfiles.Canonical(registry);
        if (registry == DockerHub && !repository.Contains('/')) repository = "library/" + repository;

        if (repository.Length == 0)
            throw Invalid(text, "the repository name is missing");
        if (repository.Any(char.IsUpper))
            throw Invalid(text, "repository names must be lowercase");
        if (!RepositoryShape().IsMatch(repository))
            throw Invalid(text, $"'{repository}' is not a valid repository path (lowercase letters, digits and . _ - separated by /)");
        if (registry.Length + 1 + repository.Length > 255)
            throw Invalid(text, "the name is longer than 255 characters");

        return new ImageReference(registry, repository, tag, digest);
    }

    private static PromotionException Invalid(string text, string why) =>
        new($"invalid image reference '{text}': {why}");

    // Docker's \w is ASCII and its $ is the very end; .NET's \w would let "café" through and its $ a trailing newline.
    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\z")]
    private static partial Regex TagShape();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryShape();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$")]
    private static partial Regex RegistryShape();
}
