using System.Net;

namespace ImagePromotion.Registry;

/// <summary>What the engine asked a registry to do when it failed; callers decide fallbacks on it.</summary>
public enum RegistryOperation
{
    /// <summary>HEAD of a manifest by tag or digest.</summary>
    LookUpManifest,
    /// <summary>GET of a manifest.</summary>
    ReadManifest,
    /// <summary>PUT of a manifest.</summary>
    WriteManifest,
    /// <summary>HEAD of a blob.</summary>
    CheckBlob,
    /// <summary>GET of a blob.</summary>
    ReadBlob,
    /// <summary>Cross-repository mount (<c>POST …/blobs/uploads/?mount=</c>).</summary>
    MountBlob,
    /// <summary>POST opening an upload session.</summary>
    StartUpload,
    /// <summary>PATCH of an upload chunk.</summary>
    UploadChunk,
    /// <summary>PUT completing an upload with the digest.</summary>
    CompleteUpload,
    /// <summary>DELETE of an abandoned upload session.</summary>
    CancelUpload,
    /// <summary>GET of <c>/tags/list</c>.</summary>
    ListTags,
    /// <summary>Listing the referrers of a manifest.</summary>
    ListReferrers,
    /// <summary>A token request to the registry's auth realm.</summary>
    FetchToken,
}

/// <summary>
/// The error codes of the OCI distribution spec (§ error codes) plus the ones real registries add, as the
/// <c>errors[].code</c> of an error body carries them.
/// </summary>
public static class RegistryErrorCodes
{
    /// <summary>The blob is not in the repository.</summary>
    public const string BlobUnknown = "BLOB_UNKNOWN";
    /// <summary>The upload was invalid (a bad chunk or range).</summary>
    public const string BlobUploadInvalid = "BLOB_UPLOAD_INVALID";
    /// <summary>The upload session is unknown (expired or cancelled).</summary>
    public const string BlobUploadUnknown = "BLOB_UPLOAD_UNKNOWN";
    /// <summary>The content did not match the digest given.</summary>
    public const string DigestInvalid = "DIGEST_INVALID";
    /// <summary>A manifest references a blob the repository lacks.</summary>
    public const string ManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN";
    /// <summary>The manifest is invalid or its type is refused.</summary>
    public const string ManifestInvalid = "MANIFEST_INVALID";
    /// <summary>No manifest under that tag or digest.</summary>
    public const string ManifestUnknown = "MANIFEST_UNKNOWN";
    /// <summary>The repository name is invalid.</summary>
    public const string NameInvalid = "NAME_INVALID";
    /// <summary>The repository is not known to the registry.</summary>
    public const string NameUnknown = "NAME_UNKNOWN";
    /// <summary>The content length did not match.</summary>
    public const string SizeInvalid = "SIZE_INVALID";
    /// <summary>Authentication is required.</summary>
    public const string Unauthorized = "UNAUTHORIZED";
    /// <summary>Access to the resource is denied.</summary>
    public const string Denied = "DENIED";
    /// <summary>The operation is unsupported.</summary>
    public const string Unsupported = "UNSUPPORTED";
    /// <summary>Too many requests: wait (<c>Retry-After</c>) and try again.</summary>
    public const string TooManyRequests = "TOOMANYREQUESTS";
    /// <summary>ECR's answer to a write onto an immutable tag (aws/containers-roadmap#2179).</summary>
    public const string TagInvalid = "TAG_INVALID";
    /// <summary>GHCR's answer to a PATCH over its 4 MiB per-request limit (oras-project/rust-oci-client#35).</summary>
    public const string RangeNotSatisfiable = "REQUESTED_RANGE_NOT_SATISFIABLE";
}

/// <summary>
/// A registry answered with an error (or not at all). Carries what a caller needs to act without reading
/// the message: the HTTP status (null when no answer came), the OCI error code of the body's first error,
/// the operation, the registry and the repository, and how long the registry asked us to wait.
/// The message is the usual one line naming the registry, the repository and the fix.
/// </summary>
public sealed class RegistryException : PromotionException
{
    /// <summary>An error from <paramref name="registry"/>.</summary>
    /// <param name="message">One line naming the registry, the repository and the fix.</param>
    /// <param name="registry">The registry host.</param>
    /// <param name="repository">The repository, when the call had one.</param>
    /// <param name="operation">What was asked.</param>
    /// <param name="status">The HTTP status; null when no answer came.</param>
    /// <param name="errorCode">The first <c>errors[].code</c> of the body, if any.</param>
    /// <param name="inner">The transport error, if any.</param>
    public RegistryException(string message, string registry, string? repository, RegistryOperation operation,
        HttpStatusCode? status, string? errorCode, Exception? inner = null)
        : base(message, inner!)
    {
        Registry = registry;
        Repository = repository;
        Operation = operation;
        Status = status;
        ErrorCode = errorCode;
    }

    /// <summary>The registry host that failed.</summary>
    public string Registry { get; }
    /// <summary>The repository the call was about, when it had one.</summary>
    public string? Repository { get; }
    /// <summary>What was asked of the registry.</summary>
    public RegistryOperation Operation { get; }
    /// <summary>The HTTP status, or null when the registry never answered (refused connection, timeout).</summary>
    public HttpStatusCode? Status { get; }
    /// <summary>The OCI error code (<see cref="RegistryErrorCodes"/>), or null when the body had none.</summary>
    public string? ErrorCode { get; }
    /// <summary>The registry's <c>Retry-After</c>, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// The registry said no to this request (4xx other than 408/429): asking again the same way will not help,
    /// but another way might (a refused mount can still be uploaded).
    /// </summary>
    public bool IsRefusal => Status is { } s && (int)s is >= 400 and < 500
        && s is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);

    /// <summary>True when the body's error code is <paramref name="code"/> (one of <see cref="RegistryErrorCodes"/>).</summary>
    public bool Is(string code) => string.Equals(ErrorCode, code, StringComparison.Ordinal);
}
