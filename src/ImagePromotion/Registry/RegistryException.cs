using System.Net;

namespace ImagePromotion.Registry;

/// <summary>What the engine asked a registry to do when it failed; callers decide fallbacks on it.</summary>
public enum RegistryOperation
{
    LookUpManifest,
    ReadManifest,
    WriteManifest,
    CheckBlob,
    ReadBlob,
    MountBlob,
    StartUpload,
    UploadChunk,
    CompleteUpload,
    CancelUpload,
    ListTags,
    ListReferrers,
    FetchToken,
}

/// <summary>
/// The error codes of the OCI distribution spec (§ error codes) plus the ones real registries add, as the
/// <c>errors[].code</c> of an error body carries them.
/// </summary>
public static class RegistryErrorCodes
{
    public const string BlobUnknown = "BLOB_UNKNOWN";
    public const string BlobUploadInvalid = "BLOB_UPLOAD_INVALID";
    public const string BlobUploadUnknown = "BLOB_UPLOAD_UNKNOWN";
    public const string DigestInvalid = "DIGEST_INVALID";
    public const string ManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN";
    public const string ManifestInvalid = "MANIFEST_INVALID";
    public const string ManifestUnknown = "MANIFEST_UNKNOWN";
    public const string NameInvalid = "NAME_INVALID";
    public const string NameUnknown = "NAME_UNKNOWN";
    public const string SizeInvalid = "SIZE_INVALID";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Denied = "DENIED";
    public const string Unsupported = "UNSUPPORTED";
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

    public string Registry { get; }
    public string? Repository { get; }
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

    public bool Is(string code) => string.Equals(ErrorCode, code, StringComparison.Ordinal);
}
