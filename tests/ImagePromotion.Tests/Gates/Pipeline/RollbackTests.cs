using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Execution;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Records;
using ImagePromotion.Registry;

namespace ImagePromotion.Tests.Gates.Pipeline;

[TestFixture]
public sealed class RollbackTests
{
    private PipelineSandbox _sandbox = null!;
    private Digest _first;
    private Digest _second;
    private string _firstTag = "";
    private string _secondTag = "";

    private const string Gates = """
            gates:
              lock: { locked: false }
              scan: { maxAge: 1h }
              rollback: [lock]
        """;

    [OneTimeSetUp]
    public async Task TwoReleases()
    {
        _sandbox = await PipelineSandbox.StartAsync();
        using var session = _sandbox.Session(_sandbox.Yaml());
        var pipeline = new PromotionPipeline(session);
        _first = await PipelineSandbox.PushImageAsync(_sandbox.Dev, "team/app", "one", new Scanning.LayerBuilder().File("v", "1"));
        await PipelineSandbox.PromoteAsync(session, "production", "staging", _first);
        _firstTag = (await pipeline.ReleaseTagAsync(new ReleaseSelection(), null, new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero), CancellationToken.None)).Plan.Releases.Single().ReleaseTag!;
        _second = await PipelineSandbox.PushImageAsync(_sandbox.Dev, "team/app", "two", new Scanning.LayerBuilder().File("v", "2"));
        await PipelineSandbox.PromoteAsync(session, "production", "staging", _second);
        var second = await pipeline.ReleaseTagAsync(new ReleaseSelection(), null, new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero), CancellationToken.None);
        _secondTag = second.Plan.Releases.Single().ReleaseTag!;
        Assert.That(second.Outcome!.Releases.Single().Record.PreviousDigest, Is.EqualTo(_first.ToString()), "the release record names the release before it");
    }

    [OneTimeTearDown]
    public async Task Stop() => await _sandbox.DisposeAsync();

    private static async Task<ReleaseOutcome> RollbackAsync(PromotionSession session, string? toRelease, bool previous) =>
        (await new PromotionPipeline(session).RollbackAsync(new ReleaseSelection(), null, toRelease, previous, null, CancellationToken.None)).Outcome!.Releases.Single();

    private async Task<Digest?> ProductionAsync()
    {
        using var raw = _sandbox.Prod.CreateClient();
        return (await raw.HeadManifestAsync("team/app", "production"))?.Digest;
    }

    [Test, Order(1)]
    public async Task A_locked_production_refuses_the_rollback_through_the_rollback_gates_only()
    {
        using var session = _sandbox.Session(_sandbox.Yaml(productionExtra: Gates.Replace("lock: { locked: false }", "lock: { locked: true, reason: \"change freeze\" }")));
        var outcome = await RollbackAsync(session, null, true);

        Assert.That(outcome.Refused, Is.True);
        Assert.That(outcome.Gates!.Results.Select(g => g.Gate), Is.EqualTo(new[] { "environment-lock" }), "only the gates named by gates.rollback (not scan)");
        Assert.That(await ProductionAsync(), Is.EqualTo(_second));
    }

    [Test, Order(2)]
    public async Task Previous_goes_back_to_the_newest_other_release_and_says_what_it_replaced()
    {
        using var session = _sandbox.Session(_sandbox.Yaml(productionExtra: Gates), identity: "oncall");
        var outcome = await RollbackAsync(session, null, true);

        Assert.That(outcome.Refused, Is.False, outcome.Gates?.ToTable());
        Assert.That(await ProductionAsync(), Is.EqualTo(_first));
        Assert.That(outcome.Record.Kind, Is.EqualTo("rollback"));
        Assert.That(outcome.Record.PreviousDigest, Is.EqualTo(_second.ToString()));
        Assert.That(outcome.Record.FromReference, Does.Contain(_firstTag));
        Assert.That(string.Join("\n", _sandbox.Log.Lines), Does.Contain($"replaced {_second}"));
        var records = await new PromotionRecorder(session).ReadAsync(ImageReference.Parse($"{_sandbox.Prod.Host}/team/app@{_first}"), CancellationToken.None);
        Assert.That(records.Any(r => r.Kind == "rollback" && r.Who == "oncall"), Is.True, "the rollback record is evidence on the digest");
    }

    [Test, Order(3)]
    public async Task A_named_release_is_promoted_back_and_an_unknown_one_is_a_clear_error()
    {
        using var session = _sandbox.Session(_sandbox.Yaml(productionExtra: Gates));
        var outcome = await RollbackAsync(session, _secondTag, false);
        Assert.That(outcome.Refused, Is.False);
        Assert.That(await ProductionAsync(), Is.EqualTo(_second));

        var ex = Assert.ThrowsAsync<PromotionException>(() => RollbackAsync(session, "release-19990101-000000", false));
        Assert.That(ex!.Message, Does.Contain("--to-release=release-19990101-000000").And.Contain(_secondTag));
        ex = Assert.ThrowsAsync<PromotionException>(() => RollbackAsync(session, null, false));
        Assert.That(ex!.Message, Does.Contain("exactly one of"));
    }
}
