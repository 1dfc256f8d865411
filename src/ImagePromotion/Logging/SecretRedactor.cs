namespace ImagePromotion.Logging;

/// <summary>
/// Every secret the process learns (passwords, tokens, client secrets) is registered here the moment it
/// is read, and every line of output is passed through <see cref="Redact"/>. Belt and braces: the code
/// also never formats a secret into a message in the first place.
/// </summary>
public sealed class SecretRedactor
{
    /// <summary>The process-wide redactor every host and client registers with.</summary>
    public static SecretRedactor Shared { get; } = new();

    private readonly object _gate = new();
    private string[] _secrets = Array.Empty<string>();

    /// <summary>Raised when a secret is registered, so a CI host can mask it (GitHub's add-mask).</summary>
    public event Action<string>? SecretAdded;

    /// <summary>Registers a secret; null, empty and values under 4 characters are ignored (they would redact ordinary words). Raises <see cref="SecretAdded"/> once per new value.</summary>
    public void Add(string? secret)
    {
        // Very short values would redact ordinary words; no real credential is that short.
        if (string.IsNullOrEmpty(secret) || secret.Length < 4) return;
        lock (_gate)
        {
            if (Array.IndexOf(_secrets, secret) >= 0) return;
            // Longest first, so a secret that contains another is replaced whole.
            _secrets = _secrets.Append(secret).OrderByDescending(s => s.Length).ToArray();
        }
        SecretAdded?.Invoke(secret);
    }

    /// <summary><paramref name="text"/> with every registered secret replaced by <c>***</c>, longest first; empty for null.</summary>
    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? string.Empty;
        var secrets = _secrets;
        foreach (var s in secrets)
        {
            if (text.Contains(s, StringComparison.Ordinal)) text = text.Replace(s, "***", StringComparison.Ordinal);
        }
        return text;
    }
}
