using System.Diagnostics;
using System.Text.Json;
using NUnit.Framework;

namespace ImagePromotion.Tests.Servers.GitHub;

/// <summary>
/// GitHub's published OpenAPI description of api.github.com, from the npm package @octokit/openapi,
/// installed once into the test output folder and reused by later runs.
/// </summary>
internal static class GitHubOpenApiSpec
{
    /// <summary>Pinned so a run is reproducible; bump it to check the server against a newer description.</summary>
    public const string PackageVersion = "23.0.2";
    private const string Package = "@octokit/openapi";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static JsonDocument? _document;

    public static async Task<JsonElement> LoadAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_document != null) return _document.RootElement;
            var prefix = Path.Combine(TestContext.CurrentContext.TestDirectory, ".cache", "octokit-openapi-" + PackageVersion);
            var packageDir = Path.Combine(prefix, "node_modules", "@octokit", "openapi");
            var file = Path.Combine(packageDir, "generated", "api.github.com.json");
            if (!File.Exists(file))
            {
                var npm = FindOnPath(OperatingSystem.IsWindows() ? "npm.cmd" : "npm");
                if (npm == null) Assert.Ignore("npm is not installed; the GitHub OpenAPI conformance check needs it to fetch @octokit/openapi.");
                Directory.CreateDirectory(prefix);
                await RunNpmAsync(npm!, prefix);
            }
            Assert.That(File.Exists(file), Is.True, $"{Package} no longer ships generated/api.github.com.json; inspect {packageDir} and update the path");
            await using var stream = File.OpenRead(file);
            _document = await JsonDocument.ParseAsync(stream);
            return _document.RootElement;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task RunNpmAsync(string npm, string prefix)
    {
        var psi = new ProcessStartInfo(npm) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", $"{Package}@{PackageVersion}" }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(true); Assert.Fail($"npm install {Package} took more than 5 minutes"); }
        if (process.ExitCode != 0) Assert.Fail($"npm install {Package}@{PackageVersion} failed: {await stderr}{await stdout}");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
