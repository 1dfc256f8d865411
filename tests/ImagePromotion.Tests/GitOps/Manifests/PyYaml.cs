using System.Diagnostics;

namespace ImagePromotion.Tests.GitOps.Manifests;

/// <summary>
/// An independent reader: the python <c>yq</c> (jq over PyYAML, a YAML 1.1 loader like Helm's go-yaml v2),
/// installed by test.sh. What it prints is what a consumer of the edited file sees, without our parser.
/// </summary>
internal static class PyYaml
{
    /// <summary><c>yq -r EXPRESSION</c> over <paramref name="yaml"/>; the output lines without the final newline.</summary>
    public static string Query(string yaml, string expression)
    {
        var psi = new ProcessStartInfo("yq") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-r");
        psi.ArgumentList.Add(expression);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start yq");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(yaml);
        process.StandardInput.Close();
        if (!process.WaitForExit(60_000)) { process.Kill(true); throw new TimeoutException("yq " + expression); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"yq {expression} failed: {error.Result}");
        return output.Result.TrimEnd('\n');
    }
}
