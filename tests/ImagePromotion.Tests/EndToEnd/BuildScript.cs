using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ImagePromotion.Tests.EndToEnd;

/// <summary>Runs <c>./build.sh</c> of this repository as a user would, with a sandbox of its own.</summary>
internal sealed partial class BuildScript : IDisposable
{
    public string RepositoryRoot { get; }
    public string WorkDirectory { get; }
    public string ConfigPath { get; }
    public int DevPort { get; }
    public int ProdPort { get; }
    /// <summary>The second production region's registry (the multi-image configuration only).</summary>
    public int UsPort { get; }

    /// <param name="shop">The multi-image configuration (examples/shop: web and worker, two production regions) instead of the single-image one.</param>
    public BuildScript(bool shop = false)
    {
        RepositoryRoot = FindRoot();
        WorkDirectory = Directory.CreateTempSubdirectory("e2e-").FullName;
        DevPort = FreePort();
        ProdPort = FreePort();
        UsPort = FreePort();
        var sample = Path.Combine(RepositoryRoot, "examples", "sample-app");
        ConfigPath = Path.Combine(WorkDirectory, "promotion.yaml");
        if (shop)
        {
            // The shipped example with this test's ports and sandbox: everything else as a user reads it.
            var text = File.ReadAllText(Path.Combine(RepositoryRoot, "examples", "shop", "promotion.yaml"))
                .Replace("127.0.0.1:5701", $"127.0.0.1:{DevPort}").Replace("127.0.0.1:5702", $"127.0.0.1:{ProdPort}").Replace("127.0.0.1:5703", $"127.0.0.1:{UsPort}")
                .Replace("context: apps/", $"context: {Path.Combine(RepositoryRoot, "examples", "shop", "apps")}/")
                .Replace("../../.sandbox", Path.Combine(WorkDirectory, "sandbox"));
            File.WriteAllText(ConfigPath, text);
            return;
        }
        File.WriteAllText(ConfigPath, $"""
            service: sample-app
            build:
              context: {sample}
              builder: buildah
            registries:
              dev:
                host: 127.0.0.1:{DevPort}
                insecure: true
              prod:
                host: 127.0.0.1:{ProdPort}
                insecure: true
            environments:
              dev:
                registry: dev
                repository: team/sample-app
                tag: "git-{"{commit}"}"
                tagMayMove: false
              staging:
                registry: dev
                repository: team/sample-app
                tag: staging
              production:
                registry: prod
                repository: team/sample-app
                tag: production
                gitops:
                  repository: {WorkDirectory}/sandbox/gitops.git
                  manifests: [apps/sample-app/production/deployment.yaml]
                  container: sample-app
            sandbox:
              workDirectory: {WorkDirectory}/sandbox
              registries: [dev, prod]
            """);
    }

    public sealed record Run(int ExitCode, string Output)
    {
        public string[] ErrorLines => Output.Split('\n').Where(l => l.StartsWith("Error:", StringComparison.Ordinal)).ToArray();
    }

    public Run Execute(params string[] arguments)
    {
        var psi = new ProcessStartInfo(Path.Combine(RepositoryRoot, "build.sh"))
        {
            WorkingDirectory = RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add($"--config={ConfigPath}");
        psi.ArgumentList.Add($"--artifacts={Path.Combine(WorkDirectory, "artifacts")}");
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(4))) { p.Kill(true); Assert.Fail("build.sh did not finish in 4 minutes"); }
        var output = Ansi().Replace(stdout.Result + stderr.Result, "");
        TestContext.Out.WriteLine(output);
        return new Run(p.ExitCode, output);
    }

    public async Task<HttpStatusCode> HeadAsync(int port, string repository, string reference)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"http://127.0.0.1:{port}/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Runs git in the sandbox GitOps repository and returns its output.</summary>
    public string Git(params string[] arguments) => GitIn("gitops.git", arguments);

    /// <summary>Runs git in the sandbox's bare repository <paramref name="repository"/> and returns its output.</summary>
    public string GitIn(string repository, params string[] arguments)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-C");
        psi.ArgumentList.Add(Path.Combine(WorkDirectory, "sandbox", repository));
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    /// <summary>The plans the last run wrote to plan.json (with what it did, in a real run).</summary>
    public System.Text.Json.JsonElement Plans()
    {
        var file = Path.Combine(WorkDirectory, "artifacts", "plan.json");
        return System.Text.Json.JsonDocument.Parse(File.Exists(file) ? File.ReadAllText(file) : "[]").RootElement.Clone();
    }

    public void Dispose()
    {
        Execute("--target=SandboxDown");
        try { Directory.Delete(WorkDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "build.sh"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("build.sh not found above the test directory");
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();
}
