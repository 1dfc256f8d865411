namespace ImagePromotion;

/// <summary>
/// An error a user can act on. Its message is one line that names the input and says what to do;
/// hosts print the message alone (no stack trace) and exit non-zero.
/// </summary>
public partial class PromotionException : Exception
{
    /// <summary>An error with a one-line message (newlines folded, words over 1000 characters shortened).</summary>
    public PromotionException(string message) : base(OneLine(message)) { }

    /// <summary>An error with a one-line message and the exception that caused it.</summary>
    public PromotionException(string message, Exception inner) : base(OneLine(message), inner) { }

    /// <summary>True when trying again later may succeed (a dropped connection, 5xx, 429): copiers retry these.</summary>
    public bool Transient { get; init; }

    // An input can be huge (a 900 KB host in a hostile config): quote its start, not all of it.
    private static string OneLine(string message) =>
        LongWord().Replace(message.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' '),
            m => $"{m.Value[..60]}…({m.Length} characters)…{m.Value[^12..]}");

    [System.Text.RegularExpressions.GeneratedRegex(@"\S{1001,}")]
    private static partial System.Text.RegularExpressions.Regex LongWord();
}

/// <summary>A destination tag would move where the environment forbids it, or another run won a race.</summary>
public sealed class PromotionConflictException(string message) : PromotionException(message);
