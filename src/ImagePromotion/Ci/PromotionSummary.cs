using System.Text;

namespace ImagePromotion.Ci;

/// <summary>
/// The markdown a promotion leaves on the run's summary page: which digest each environment now points
/// at, which gates decided, and the GitOps pull request. Reviewers approving production read this.
/// </summary>
public sealed class PromotionSummary
{
    private readonly string _title;
    private readonly List<(string Environment, string Reference, string Digest)> _digests = new();
    private readonly List<(string Gate, string Result, string Reason)> _gates = new();
    private readonly List<string> _notes = new();
    private string? _pullRequestUrl;
    private BuildIdentity? _identity;
    private string? _runUrl;

    /// <summary>An empty summary under a heading.</summary>
    /// <exception cref="ArgumentException"><paramref name="title"/> is blank.</exception>
    public PromotionSummary(string title)
    {
        if (string.IsNullOrWhiteSpace(title)) throw new ArgumentException("a summary needs a title", nameof(title));
        _title = title.Trim();
    }

    /// <summary>Adds a row to the digest table: the environment, the reference written there and the digest it now points at.</summary>
    public PromotionSummary AddDigest(string environment, string reference, string digest)
    {
        _digests.Add((environment, reference, digest));
        return this;
    }

    /// <summary>Result is free text; "passed", "failed", "skipped" and "warned" get a symbol for skimming.</summary>
    public PromotionSummary AddGate(string gate, string result, string reason)
    {
        _gates.Add((gate, result, reason));
        return this;
    }

    /// <summary>Links the GitOps pull request; a blank URL removes the link.</summary>
    public PromotionSummary WithPullRequest(string? url)
    {
        _pullRequestUrl = string.IsNullOrWhiteSpace(url) ? null : url.Trim();
        return this;
    }

    /// <summary>Adds the "run by" line: who ran it and a link to the run (an unsafe URL is left out).</summary>
    public PromotionSummary WithRun(BuildIdentity identity, string? runUrl)
    {
        _identity = identity;
        _runUrl = runUrl;
        return this;
    }

    /// <summary>Adds a paragraph of plain text (Markdown in it is neutralised).</summary>
    public PromotionSummary AddNote(string text)
    {
        _notes.Add(text);
        return this;
    }

    /// <summary>The summary as Markdown: heading, run line, digest and gate tables, pull request and notes; every untrusted value escaped or code-spanned.</summary>
    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.Append("## ").Append(Inline(_title)).Append('\n').Append('\n');
        if (_identity is not null)
        {
            md.Append("Run by ").Append(Inline(_identity.ToString()));
            if (MarkdownText.Url(_runUrl) is { } run) md.Append(" · [run](").Append(run).Append(')');
            md.Append("\n\n");
        }
        if (_digests.Count > 0)
        {
            md.Append("| environment | reference | digest |\n| --- | --- | --- |\n");
            foreach (var (environment, reference, digest) in _digests)
                md.Append("| ").Append(Cell(environment)).Append(" | ").Append(Code(reference)).Append(" | ").Append(Code(digest)).Append(" |\n");
            md.Append('\n');
        }
        if (_gates.Count > 0)
        {
            md.Append("| gate | result | reason |\n| --- | --- | --- |\n");
            foreach (var (gate, result, reason) in _gates)
                md.Append("| ").Append(Cell(gate)).Append(" | ").Append(Symbol(result)).Append(Cell(result)).Append(" | ").Append(Cell(reason)).Append(" |\n");
            md.Append('\n');
        }
        if (_pullRequestUrl is not null)
            md.Append("Pull request: ").Append(MarkdownText.Link(_pullRequestUrl)).Append("\n\n");
        foreach (var note in _notes) md.Append(Inline(note)).Append("\n\n");
        return md.ToString();
    }

    /// <summary>The same text as <see cref="ToMarkdown"/>.</summary>
    public override string ToString() => ToMarkdown();

    private static string Symbol(string result) => result.Trim().ToLowerInvariant() switch
    {
        "passed" or "pass" or "ok" or "success" => "✅ ",
        "failed" or "fail" or "failure" or "blocked" => "❌ ",
        "skipped" or "skip" => "⏭️ ",
        "warned" or "warning" => "⚠️ ",
        _ => string.Empty,
    };

    // Reasons, gate names, references and notes carry text from images, evidence and scanners: escaped, never Markdown.
    private static string Cell(string? text) => MarkdownText.Escape(text);

    private static string Inline(string? text) => MarkdownText.Escape(text);

    private static string Code(string? text) => MarkdownText.Code(text);
}
