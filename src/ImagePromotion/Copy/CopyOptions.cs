namespace ImagePromotion.Copy;

/// <summary>How one copy behaves: dry run, tag guarding and moves, parallelism, retries, foreign layers.</summary>
public sealed record CopyOptions
{
    /// <summary>Plan only: read what is needed to decide, write nothing.</summary>
    public bool DryRun { get; init; }
    /// <summary>May the destination tag be moved from another digest to this one? Release tags may not.</summary>
    public bool AllowTagMove { get; init; } = true;
    /// <summary>Blob transfers in flight at once, across all platforms of an index.</summary>
    public int MaxParallelism { get; init; } = 6;
    /// <summary>
    /// Guard the destination tag against a concurrent promotion: look at it again before writing it (after
    /// streaming blobs, the long phase) and read it back after, raising <see cref="PromotionConflictException"/>
    /// when another run moved it. Costs one or two requests; environment promotions turn it on, a plain copy
    /// (like skopeo's) does not.
    /// </summary>
    public bool GuardTag { get; init; }
    /// <summary>
    /// Attempts per blob transfer (default 4); each restarts from a fresh source stream and a fresh upload
    /// session, after the registry's <c>Retry-After</c> or a backoff. Across a copy, once more transfers than
    /// <see cref="MaxParallelism"/> failed in a row with none succeeding (a destination whose storage is full),
    /// the copy stops instead of opening more sessions.
    /// </summary>
    public int BlobAttempts { get; init; } = 4;
    /// <summary>
    /// Also copy non-distributable (foreign) layers when the source registry holds them. Off by default, as
    /// skopeo does: such a layer keeps its digest in the manifest and is fetched from its <c>urls</c>, so the
    /// destination does not need it (and may not be allowed to redistribute it).
    /// </summary>
    public bool CopyForeignLayers { get; init; }
}
