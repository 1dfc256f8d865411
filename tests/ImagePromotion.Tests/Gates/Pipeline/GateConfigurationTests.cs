using ImagePromotion.Gates;
using ImagePromotion.Scanning;

namespace ImagePromotion.Tests.Gates.Pipeline;

/// <summary>The README's gates and scan configuration is what the loader reads, key for key.</summary>
[TestFixture]
public sealed class GateConfigurationTests
{
    private PipelineSandbox _sandbox = null!;

    [OneTimeSetUp]
    public async Task Start() => _sandbox = await PipelineSandbox.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _sandbox.DisposeAsync();

    private static string ReadmeBlock()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "README.md")) || !File.Exists(Path.Combine(dir.FullName, "build.sh"))) dir = dir.Parent;
        var readme = File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        var section = readme[readme.IndexOf("## Gates and evidence", StringComparison.Ordinal)..];
        var start = section.IndexOf("```yaml\n", section.IndexOf("### Configuration", StringComparison.Ordinal), StringComparison.Ordinal) + 8;
        return section[start..section.IndexOf("```", start, StringComparison.Ordinal)];
    }

    [Test]
    public void The_readme_example_loads_with_every_gate_and_scan_setting()
    {
        var block = ReadmeBlock();
        var split = block.IndexOf("environments:\n  production:\n", StringComparison.Ordinal);
        using var session = _sandbox.Session(_sandbox.Yaml(block[..split], block[(split + "environments:\n  production:\n".Length)..]));

        var scan = session.Config.Scan!;
        Assert.That(scan.Scanners!.Select(s => s.Name), Is.EqualTo(new[] { "trivy" }));
        Assert.That(scan.Policy.MaxCounts[Severity.High], Is.EqualTo(0));
        Assert.That(scan.Policy.Allowlist.Single().Expires, Is.EqualTo(new DateOnly(2026, 12, 31)));
        Assert.That(scan.Rules.IsEnabled(BuiltInRules.MissingSourceLabel), Is.False);
        Assert.That(scan.Rules.SeverityOf(BuiltInRules.NoHealthcheck), Is.EqualTo(Severity.Info));

        var gates = session.Config.Environment("production").Gates!;
        Assert.That(gates.ScanMaxAge, Is.EqualTo(TimeSpan.FromHours(24)));
        Assert.That(gates.Staging, Is.EqualTo(new ImagePromotion.Configuration.StagingCheck("staging", TimeSpan.Zero, TimeSpan.FromHours(1))));
        Assert.That(gates.Policy.RequiredApprovals, Is.EqualTo(2));
        Assert.That(gates.Policy.Approvers, Is.EquivalentTo(new[] { "alice", "bob", "carol" }));
        Assert.That(gates.Policy.FailCondition, Does.Contain("scan.critical > 0"));
        Assert.That(gates.FreezeWindows.Select(w => w.GetType()), Is.EqualTo(new[] { typeof(WeeklyFreezeWindow), typeof(DateRangeFreezeWindow) }));
        Assert.That(gates.RollbackGates, Is.EqualTo(new[] { "lock", "approvals" }));
    }

    [Test]
    public void Bad_gate_values_are_one_line_errors_naming_the_key()
    {
        string Gates(string body) => "    gates:\n" + body;
        var cases = new (string Yaml, string Expected)[]
        {
            (Gates("      approvals: { required: 3, approvers: [alice] }\n"), "exceeds the 1 designated approvers"),
            (Gates("      freeze: [{ name: x, timeZone: Mars/Olympus, days: [Sat], start: \"00:00\", end: \"06:00\" }]\n"), "time zone 'Mars/Olympus' is unknown"),
            (Gates("      freeze: [{ name: x, days: [Caturday], start: \"00:00\", end: \"06:00\" }]\n"), "'Caturday'"),
            (Gates("      rollback: [lock, prayers]\n"), "names gate 'prayers'"),
            (Gates("      lock: { locked: maybe }\n"), "'environments.production.gates.lock.locked' must be true or false"),
        };
        foreach (var (yaml, expected) in cases)
        {
            var ex = Assert.Throws<PromotionException>(() => _sandbox.Session(_sandbox.Yaml(productionExtra: yaml)), yaml);
            Assert.That(ex!.Message, Does.Contain(expected), yaml);
            Assert.That(ex.Message, Does.Not.Contain("\n"));
        }
    }
}
