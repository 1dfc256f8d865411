namespace ImagePromotion.Ci;

/// <summary>
/// The CI system the pipeline runs under. Cake targets talk to it instead of to GitHub Actions or
/// CodeBuild directly, so the same target reports the same facts (who, which run, which commit) and
/// hands values to later steps whichever system runs it.
/// </summary>
public interface IBuildSystem : IDisposable
{
    /// <summary>Short display name: "GitHub Actions", "AWS CodeBuild" or "local".</summary>
    string Name { get; }

    /// <summary>Who triggered the run, for the promotion record and the Port run.</summary>
    BuildIdentity Identity { get; }

    /// <summary>A link to this run's page, or null where there is none (local runs).</summary>
    string? RunUrl { get; }

    /// <summary>The source commit the run builds, when the system says.</summary>
    string? Commit { get; }

    /// <summary>The source branch, when the system says (never a bare commit id).</summary>
    string? Branch { get; }

    /// <summary>Hides a value in the system's log. Only GitHub Actions can; elsewhere the redactor does it.</summary>
    void MaskSecret(string value);

    /// <summary>Hands a value to later steps (GitHub step outputs, CodeBuild exported variables).</summary>
    void SetOutput(string name, string value);

    /// <summary>Appends markdown to the run's summary page (or a summary file where there is no page).</summary>
    void AppendSummary(string markdown);

    /// <summary>Opens a collapsible section of the log (a marked line where the system cannot fold).</summary>
    void BeginGroup(string name);
    /// <summary>Closes the section <see cref="BeginGroup"/> opened.</summary>
    void EndGroup();

    /// <summary>Reports a warning the run's page shows (an annotation where the system has them); the text is redacted.</summary>
    void Warning(string message);
    /// <summary>Reports an error the run's page shows (an annotation where the system has them); the text is redacted.</summary>
    void Error(string message);
}

/// <summary>
/// Who started the run. <see cref="TriggeringActor"/> differs from <see cref="Actor"/> when someone
/// re-runs a workflow another person started; both matter for an audit trail.
/// </summary>
public sealed record BuildIdentity(string Actor, string? TriggeringActor = null, string? Email = null)
{
    /// <summary><c>actor &lt;email&gt; (triggered by other)</c>, leaving out the parts that are absent or the same.</summary>
    public override string ToString()
    {
        var text = Actor;
        if (!string.IsNullOrEmpty(Email)) text += $" <{Email}>";
        if (!string.IsNullOrEmpty(TriggeringActor) && !string.Equals(TriggeringActor, Actor, StringComparison.Ordinal))
            text += $" (triggered by {TriggeringActor})";
        return text;
    }
}
