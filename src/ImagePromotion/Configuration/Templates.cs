namespace ImagePromotion.Configuration;

/// <summary>The placeholders repositories, tags and GitOps paths may hold: <c>{commit}</c>, <c>{application}</c>, <c>{image}</c>.</summary>
public static class Templates
{
    /// <summary><paramref name="template"/> with each placeholder replaced; a null value leaves its placeholder as written.</summary>
    public static string Expand(string template, string? commit, string? application, string? image)
    {
        var text = template;
        if (commit is not null) text = text.Replace("{commit}", commit, StringComparison.Ordinal);
        if (application is not null) text = text.Replace("{application}", application, StringComparison.Ordinal);
        if (image is not null) text = text.Replace("{image}", image, StringComparison.Ordinal);
        return text;
    }
}
