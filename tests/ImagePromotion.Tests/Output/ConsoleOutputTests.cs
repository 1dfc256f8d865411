using System.Diagnostics;
using System.Text.RegularExpressions;
using ImagePromotion.Tests.Infrastructure;
using ImagePromotion.Tests.Reliability;

namespace ImagePromotion.Tests.Output;

/// <summary>
/// What ./build.sh prints, read raw (escape codes kept) from a pipe and from a pseudo-terminal (util-linux
/// <c>script</c>): no escape codes off a terminal or under NO_COLOR whatever TERM says, normal-weight text on a
/// terminal, one header per phase, and Status within 100 columns with an unreachable registry as a row.
/// </summary>
[TestFixture, NonParallelizable]
public sealed partial class ConsoleOutputTests
{
    private RegistryServer _registry = null!;
    private SilentServer _silent = null!;
    private PushedImage _image = null!;
    private string _work = null!;
    private string _config = null!;
    private CancellationTokenSource _timeout = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        _registry = await RegistryServer.StartAsync(cancellationToken: _timeout.Token);
        _silent = new SilentServer();
        _image = await TestImages.PushRandomImageAsync(_registry, "team/app", "v1", cancellationToken: _timeout.Token);
        _work = Directory.CreateTempSubdirectory("output-").FullName;
        _config = Path.Combine(_work, "promotion.yaml");
        await File.WriteAllTextAsync(_config, $$"""
            service: app
            registries:
              dev: { host: {{_registry.Host}}, insecure: true }
              prod: { host: {{_registry.Host}}, insecure: true }
            environments:
              dev: { registry: dev, repository: team/app, tag: v1 }
              staging: { registry: dev, repository: team/app, tag: staging }
              production: { registry: prod, repository: team/app-production-with-a-rather-long-repository-name, tag: production }
            """, _timeout.Token);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _registry.DisposeAsync();
        await _silent.DisposeAsync();
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
        _timeout.Dispose();
    }

    [Test]
    public void Piped_output_has_no_escape_codes_even_with_TERM_set()
    {
        var run = Run(terminal: false, new() { ["TERM"] = "xterm-256color", ["NO_COLOR"] = null }, "--target=Status");

        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("environment  reference"));
        Assert.That(run.Output, Does.Not.Contain("\x1b"), "no escape code in a pipe");
    }

    [Test]
    public void On_a_terminal_NO_COLOR_means_no_colour_or_cursor_codes()
    {
        var run = Run(terminal: true, new() { ["TERM"] = "xterm-256color", ["NO_COLOR"] = "1" }, "--target=Status");

        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("environment  reference"));
        // .NET itself switches a terminal's keypad mode on start-up (terminfo keypad_xmit, ESC[?1h ESC=): not text styling.
        Assert.That(Styling().Matches(run.Output).Select(m => m.Value), Is.Empty, "NO_COLOR: no colour, weight or cursor movement, even on a terminal");
    }

    [Test]
    public void On_a_terminal_text_is_normal_weight()
    {
        var run = Run(terminal: true, new() { ["TERM"] = "xterm-256color", ["NO_COLOR"] = null }, "--target=Status");

        Assert.That(run.ExitCode, Is.Zero, run.Output);
        var table = run.Output.Split('\n').First(l => l.Contains("environment  reference", StringComparison.Ordinal));
        Assert.That(table.TrimEnd('\r'), Does.StartWith("environment  reference"), "the table is plain text");
        Assert.That(Bold().Matches(run.Output).Select(m => m.Value), Is.Empty, "no bold or bright-white text");
    }

    [Test]
    public void Every_phase_has_one_header_and_Cake_s_banners_and_task_table_stay_out()
    {
        var run = Run(terminal: false, new(), "--target=PromoteStaging", $"--digest={_image.Digest}");

        Assert.That(run.ExitCode, Is.Zero, run.Output);
        var lines = run.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.That(lines.Where(l => l.StartsWith("== ", StringComparison.Ordinal)), Is.EqualTo(new[] { "== BuildOnce", "== PushDev", "== PromoteStaging" }));
        Assert.That(lines.Where(l => BoxRule().IsMatch(l)), Is.Empty, "no boxed task titles");
        Assert.That(lines.Where(l => l.TrimStart().StartsWith("Task ", StringComparison.Ordinal) || l.TrimStart().StartsWith("Total:", StringComparison.Ordinal)), Is.Empty, "no task table");
        Assert.That(run.Output, Does.Contain($"staging"));
    }

    [Test]
    public void Status_shows_a_registry_that_never_answers_as_a_row_and_exits_0()
    {
        var run = Run(terminal: false, new(), "--target=Status", $"--set=registries.prod.host={_silent.Host}", "--set=registries.prod.timeout=1s");

        Assert.That(run.ExitCode, Is.Zero, run.Output);
        var production = run.Output.Split('\n').Single(l => l.StartsWith("production ", StringComparison.Ordinal));
        Assert.That(production, Does.Contain(_silent.Host).And.EndWith("unreachable: no answer within 1 s"));
        Assert.That(run.Output.Split('\n').Single(l => l.StartsWith("dev ", StringComparison.Ordinal)), Does.EndWith(_image.Digest.ToString()[..19]));
    }

    [Test]
    public void Status_fits_100_columns_and_wide_prints_full_digests()
    {
        var narrow = Run(terminal: false, new(), "--target=Status");
        var wide = Run(terminal: false, new(), "--target=Status", "--wide");

        Assert.That(narrow.ExitCode, Is.Zero, narrow.Output);
        var table = TableLines(narrow.Output);
        Assert.That(table.Max(l => l.Length), Is.LessThanOrEqualTo(100), string.Join('\n', table));
        Assert.That(table.Single(l => l.StartsWith("dev ", StringComparison.Ordinal)), Does.EndWith(_image.Digest.ToString()[..19]));
        Assert.That(TableLines(wide.Output).Single(l => l.StartsWith("dev ", StringComparison.Ordinal)), Does.EndWith(_image.Digest.ToString()));
    }

    private static string[] TableLines(string output)
    {
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var start = lines.FindIndex(l => l.StartsWith("environment  reference", StringComparison.Ordinal));
        return lines.Skip(start).TakeWhile(l => l.Length > 0).ToArray();
    }

    private sealed record RawRun(int ExitCode, string Output);

    /// <summary>Runs ./build.sh with this fixture's configuration, piped or on a pseudo-terminal; the output as the user's terminal gets it.</summary>
    private RawRun Run(bool terminal, Dictionary<string, string?> environment, params string[] arguments)
    {
        string[] command = [Path.Combine(CakeRunner.RepositoryRoot, "build.sh"), $"--config={_config}", $"--artifacts={Path.Combine(_work, "artifacts")}", .. arguments];
        var psi = terminal
            ? new ProcessStartInfo("script") { ArgumentList = { "-qefc", string.Join(' ', command.Select(Quote)), "/dev/null" } }
            : new ProcessStartInfo(command[0]);
        if (!terminal) foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        psi.WorkingDirectory = CakeRunner.RepositoryRoot;
        psi.RedirectStandardOutput = psi.RedirectStandardError = psi.RedirectStandardInput = true;
        psi.UseShellExecute = false;
        psi.Environment["NO_COLOR"] = "1";
        foreach (var k in psi.Environment.Keys.Where(k => k is "CI" || k.StartsWith("GITHUB_", StringComparison.Ordinal) || k.StartsWith("CODEBUILD_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(k);
        foreach (var (k, v) in environment)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); Assert.Fail($"build.sh {string.Join(' ', arguments)} did not finish in 3 minutes"); }
        var run = new RawRun(p.ExitCode, stdout.Result + stderr.Result);
        TestContext.Out.WriteLine($"{(terminal ? "terminal" : "pipe")}: build.sh {string.Join(' ', arguments)} -> {run.ExitCode}\n{run.Output}");
        return run;
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    // SGR with bold (1) or bright white (97, or 37;1 as Cake's renderer writes it).
    [GeneratedRegex(@"\x1b\[(?:[0-9;]*;)?(?:1|97)(?:;[0-9;]*)?m")]
    private static partial Regex Bold();

    // SGR (colour, weight) and cursor movement or erasing: what NO_COLOR output must not hold.
    [GeneratedRegex(@"\x1b\[[0-9;]*[mABCDEFGHJKSTf]")]
    private static partial Regex Styling();

    [GeneratedRegex(@"^\s*[─═━]{10,}")]
    private static partial Regex BoxRule();
}
