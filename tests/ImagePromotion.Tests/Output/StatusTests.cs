using ImagePromotion.Configuration;
using ImagePromotion.Copy;
using ImagePromotion.Logging;
using ImagePromotion.Pipeline;
using ImagePromotion.Pipeline.Model;
using ImagePromotion.Pipeline.Status;
using ImagePromotion.Registry;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Output;

/// <summary>
/// The Status target's rows and table against a real registry: a registry that never answers is a row after the
/// configured timeout (not a failure), the release row is the release production runs, and the table fits 100 columns.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class StatusTests
{
    private RegistryServer _registry = null!;
    private SilentServer _silent = null!;
    private string _work = null!;
    private CancellationTokenSource _timeout = null!;
    private CancellationToken Ct => _timeout.Token;

    [OneTimeSetUp]
    public async Task Start()
    {
        _timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        _registry = await RegistryServer.StartAsync(cancellationToken: Ct);
        _silent = new SilentServer();
        _work = Directory.CreateTempSubdirectory("status-").FullName;
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _registry.DisposeAsync();
        await _silent.DisposeAsync();
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
        _timeout.Dispose();
    }

    private string Yaml(string repository, string productionHost, string productionExtra = "") => $$"""
        service: app
        registries:
          dev: { host: {{_registry.Host}}, insecure: true }
          prod: { host: {{productionHost}}, insecure: true{{productionExtra}} }
        environments:
          dev: { registry: dev, repository: {{repository}}, tag: v1 }
          staging: { registry: dev, repository: {{repository}}, tag: staging }
          production: { registry: prod, repository: {{repository}}, tag: production }
        """;

    private PromotionSession Session(string yaml)
    {
        var config = ConfigLoader.Parse(yaml, Path.Combine(_work, "promotion.yaml"), _work);
        return PromotionSession.Create(config, new SessionOptions
        {
            Commit = "0123456789ab", Identity = "ada", ArtifactsDirectory = Path.Combine(_work, "artifacts"),
            Environment = new Dictionary<string, string?>(),
        }, new MemoryLog());
    }

    private static ImageReference Ref(string text) => ImageReference.Parse(text);

    [Test]
    public async Task A_registry_that_accepts_and_never_answers_is_a_row_after_the_configured_timeout()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "silent/app", "v1", cancellationToken: Ct);
        using var session = Session(Yaml("silent/app", _silent.Host, ", timeout: 1s"));

        var rows = await new PromotionPipeline(session).StatusAsync(new ReleaseSelection(), Ct);

        Assert.That(rows.Select(r => (r.Environment, r.Digest, r.Problem)), Is.EqualTo(new (string, string?, string?)[]
        {
            ("dev", image.Digest.ToString(), null),
            ("staging", null, null),
            ("production", null, "unreachable: no answer within 1 s"),
        }));
        Assert.That(_silent.Connections, Is.GreaterThan(0), "the request reached the silent server");
        var table = PromotionPipeline.StatusTable(rows);
        Assert.That(table.Single(l => l.StartsWith("production", StringComparison.Ordinal)), Does.EndWith("unreachable: no answer within 1 s"));
    }

    [Test]
    public async Task A_copy_to_a_registry_that_never_answers_fails_naming_it_and_the_timeout()
    {
        await TestImages.PushRandomImageAsync(_registry, "silent/copy", "v1", cancellationToken: Ct);
        using var session = Session(Yaml("silent/copy", _silent.Host, ", timeout: 1s"));

        var ex = Assert.ThrowsAsync<RegistryException>(() => session.Copier.CopyAsync(
            Ref($"{_registry.Host}/silent/copy:v1"), Ref($"{_silent.Host}/silent/copy:production"), new CopyOptions(), Ct))!;

        Assert.That(ex.Message, Does.Contain($"registry {_silent.Host} did not answer in time").And.Contain($"no answer from {_silent.Host} within 1 s"));
        Assert.That(ex.Status, Is.Null);
    }

    [Test]
    public async Task A_registry_that_refuses_connections_is_a_row_and_the_others_are_still_read()
    {
        var image = await TestImages.PushRandomImageAsync(_registry, "down/app", "v1", cancellationToken: Ct);
        using var session = Session(Yaml("down/app", $"127.0.0.1:{FreePort.Pick()}"));

        var rows = await new PromotionPipeline(session).StatusAsync(new ReleaseSelection(), Ct);

        Assert.That(rows.Single(r => r.Environment == "dev").Digest, Is.EqualTo(image.Digest.ToString()));
        Assert.That(rows.Single(r => r.Environment == "production").Problem, Does.StartWith("unreachable: ").And.Contain("refused"));
    }

    [Test]
    public async Task After_a_rollback_the_release_row_is_the_release_production_runs_not_the_newest()
    {
        var first = await TestImages.PushRandomImageAsync(_registry, "rollback/app", "v1", cancellationToken: Ct);
        var second = await TestImages.PushRandomImageAsync(_registry, "rollback/app", "v2", cancellationToken: Ct);
        using var session = Session(Yaml("rollback/app", _registry.Host));
        async Task Tag(string from, string to) =>
            await session.Copier.CopyAsync(Ref($"{_registry.Host}/rollback/app:{from}"), Ref($"{_registry.Host}/rollback/app:{to}"), new CopyOptions(), Ct);
        await Tag("v1", "release-20261101-090000");
        await Tag("v2", "release-20261120-090000");
        await Tag("v1", "production"); // rolled back to the first release

        var rows = await new PromotionPipeline(session).StatusAsync(new ReleaseSelection(), Ct);

        var release = rows.Single(r => r.Environment == "release");
        Assert.That(release.Reference, Does.EndWith(":release-20261101-090000"));
        Assert.That(release.Digest, Is.EqualTo(first.Digest.ToString()));
        Assert.That(rows.Single(r => r.Environment == "production").Digest, Is.EqualTo(first.Digest.ToString()));
        Assert.That(second.Digest, Is.Not.EqualTo(first.Digest));
    }

    [Test]
    public void The_table_fits_100_columns_with_short_digests_and_wide_prints_them_whole()
    {
        const string digest = "sha256:9a1f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";
        var rows = new List<StatusRow>();
        foreach (var env in new[] { "dev", "staging", "production-eu", "production-us", "release:production-eu", "release:production-us" })
            foreach (var image in new[] { "web", "worker" })
                rows.Add(new StatusRow("shop", env, image, $"registry.eu-central.example.com:5000/shop/team-{image}:release-20261130-091500", digest));
        rows.Add(new StatusRow("shop", "dr", "web", "10.0.0.9:5000/shop/web:dr", null) { Problem = "unreachable: no answer within 2 min" });

        var table = PromotionPipeline.StatusTable(rows);
        var wide = PromotionPipeline.StatusTable(rows, wide: true);

        Assert.That(table.Max(l => l.Length), Is.LessThanOrEqualTo(StatusTable.Width), string.Join('\n', table));
        Assert.That(table[2], Does.Contain("sha256:9a1f2b3c4d5e").And.Not.Contain(digest), "digests shortened");
        Assert.That(table[2], Does.Contain("registry.eu-cen…").And.EndWith("-20261130-091500  sha256:9a1f2b3c4d5e"), "the reference elided in the middle, its end kept");
        Assert.That(table[0], Does.StartWith("environment            image   reference"), "one application: no application column");
        Assert.That(table, Has.Some.EndsWith("unreachable: no answer within 2 min"));
        Assert.That(wide[2], Does.Contain("registry.eu-central.example.com:5000/shop/team-web:release-20261130-091500 ").And.EndWith("  " + digest));
        Assert.That(wide.Max(l => l.Length), Is.GreaterThan(StatusTable.Width));
    }

    [Test]
    public void Values_in_the_table_cannot_break_a_line_or_start_a_CI_command()
    {
        var rows = new[] { new StatusRow("app", "dev", "app", "reg/app:v1", null) { Problem = "unreachable: bad\n::error::owned" } };

        var table = PromotionPipeline.StatusTable(rows);

        Assert.That(table, Has.Count.EqualTo(3));
        Assert.That(table[2], Does.Contain(@"bad\n::error::owned"));
    }
}
