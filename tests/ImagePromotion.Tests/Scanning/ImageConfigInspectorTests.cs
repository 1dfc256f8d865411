using System.Text;
using ImagePromotion.Scanning;
using NUnit.Framework;

namespace ImagePromotion.Tests.Scanning;

[TestFixture]
public sealed class ImageConfigInspectorTests
{
    // The shape `docker build` writes for `FROM debian` with an ENV, an EXPOSE and nothing else (Docker config media type).
    private const string DockerRootConfig = """
        {
          "architecture": "amd64",
          "config": {
            "Hostname": "",
            "Domainname": "",
            "User": "",
            "AttachStdin": false,
            "ExposedPorts": { "22/tcp": {}, "8080/tcp": {} },
            "Tty": false,
            "Env": [
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "DB_PASSWORD=hunter2-but-longer",
              "STRIPE_API_KEY=not-really-a-key-value",
              "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305",
              "POSTGRES_PASSWORD_FILE=/run/secrets/pg",
              "AUTH_TOKEN="
            ],
            "Cmd": ["/usr/sbin/sshd", "-D"],
            "Image": "sha256:5c8a1f3e7b2d90465c8a1f3e7b2d90465c8a1f3e7b2d90465c8a1f3e7b2d9046",
            "WorkingDir": "",
            "Entrypoint": null,
            "OnBuild": null,
            "Labels": null
          },
          "container_config": { "User": "appuser" },
          "created": "2026-11-20T09:00:00.000000000Z",
          "docker_version": "27.3.1",
          "history": [ { "created": "2026-11-20T09:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:… in / " } ],
          "os": "linux",
          "rootfs": { "type": "layers", "diff_ids": [ "sha256:5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c" ] }
        }
        """;

    // What buildkit writes for an image built with USER, HEALTHCHECK and OCI labels (OCI config media type).
    private const string OciTidyConfig = """
        {
          "architecture": "arm64",
          "os": "linux",
          "config": {
            "User": "10001:10001",
            "ExposedPorts": { "8080/tcp": {} },
            "Env": [ "PATH=/usr/local/bin:/usr/bin:/bin", "DOTNET_RUNNING_IN_CONTAINER=true", "APP_UID=10001" ],
            "Entrypoint": [ "dotnet", "Shop.Api.dll" ],
            "WorkingDir": "/app",
            "Labels": {
              "org.opencontainers.image.source": "https://github.com/example/shop",
              "org.opencontainers.image.revision": "8f14e45fceea167a5a36dedd4bea2543e6d1b2c9"
            },
            "Healthcheck": { "Test": [ "CMD", "/app/healthcheck" ], "Interval": 30000000000, "Timeout": 5000000000, "Retries": 3 }
          },
          "created": "2026-11-20T09:00:00Z",
          "rootfs": { "type": "layers", "diff_ids": [] },
          "history": []
        }
        """;

    private static IReadOnlyList<Finding> Inspect(string json, BuiltInRuleSettings? settings = null) =>
        new ImageConfigInspector(settings).Inspect(Encoding.UTF8.GetBytes(json), "config sha256:abc");

    [Test]
    public void Careless_docker_config_gets_every_hygiene_finding()
    {
        var findings = Inspect(DockerRootConfig);

        Assert.That(findings.Select(f => f.Id).Distinct(), Is.EquivalentTo(new[]
        {
            "root-user", "secret-in-env", "missing-source-label", "missing-revision-label", "ssh-port-exposed", "no-healthcheck",
        }));
        Assert.That(findings.Single(f => f.Id == "root-user").Title, Does.Contain("no USER"));
        Assert.That(findings.Single(f => f.Id == "no-healthcheck").Severity, Is.EqualTo(Severity.Info));
        Assert.That(findings.Single(f => f.Id == "ssh-port-exposed").Severity, Is.EqualTo(Severity.Low));
    }

    [Test]
    public void Env_secrets_are_reported_by_name_only()
    {
        var env = Inspect(DockerRootConfig).Where(f => f.Id == "secret-in-env").ToArray();

        Assert.That(env.Select(f => f.Path), Is.EquivalentTo(new[] { "config.Env.DB_PASSWORD", "config.Env.STRIPE_API_KEY" }),
            "GPG_KEY is a public fingerprint, *_FILE points at a secret, and an empty value holds nothing");
        var text = string.Join("\n", env.Select(f => f.ToString()));
        Assert.That(text, Does.Not.Contain("hunter2").And.Not.Contain("not-really-a-key-value"));
        Assert.That(env.All(f => f.Severity == Severity.High));
    }

    [Test]
    public void Tidy_oci_config_has_no_findings()
    {
        Assert.That(Inspect(OciTidyConfig), Is.Empty);
    }

    [TestCase("root")]
    [TestCase("0")]
    [TestCase("0:0")]
    [TestCase("root:staff")]
    public void Explicit_root_user_is_flagged(string user)
    {
        var findings = Inspect(OciTidyConfig.Replace("\"User\": \"10001:10001\"", $"\"User\": \"{user}\""));

        Assert.That(findings.Single().Id, Is.EqualTo("root-user"));
        Assert.That(findings.Single().Title, Does.EndWith("USER " + user));
    }

    [Test]
    public void Healthcheck_none_counts_as_no_healthcheck()
    {
        var findings = Inspect(OciTidyConfig.Replace("[ \"CMD\", \"/app/healthcheck\" ]", "[ \"NONE\" ]"));

        Assert.That(findings.Single().Id, Is.EqualTo("no-healthcheck"));
    }

    [Test]
    public void Config_without_a_config_section_is_root_without_labels_or_healthcheck()
    {
        var findings = Inspect("""{ "architecture": "amd64", "os": "linux", "rootfs": { "type": "layers", "diff_ids": [] } }""");

        Assert.That(findings.Select(f => f.Id), Is.EquivalentTo(new[] { "root-user", "missing-source-label", "missing-revision-label", "no-healthcheck" }));
    }

    [Test]
    public void Rule_settings_switch_off_and_downgrade_config_rules()
    {
        var settings = BuiltInRuleSettings.Parse(new Dictionary<string, string?>
        {
            ["missing-source-label"] = "off", ["missing-revision-label"] = "OFF", ["no-healthcheck"] = "off", ["root-user"] = "info",
        });

        var findings = Inspect(DockerRootConfig, settings);

        Assert.That(findings.Select(f => f.Id).Distinct(), Is.EquivalentTo(new[] { "root-user", "secret-in-env", "ssh-port-exposed" }));
        Assert.That(findings.Single(f => f.Id == "root-user").Severity, Is.EqualTo(Severity.Info));
    }

    [Test]
    public void Config_that_is_not_json_is_a_one_line_error_naming_it()
    {
        var ex = Assert.Throws<PromotionException>(() => Inspect("{\"config\": {\"User\": "));

        Assert.That(ex!.Message, Does.StartWith("config sha256:abc: not valid JSON"));
    }

    [Test]
    public void Config_that_is_not_an_object_is_refused()
    {
        var ex = Assert.Throws<PromotionException>(() => Inspect("[1, 2, 3]"));

        Assert.That(ex!.Message, Does.Contain("expected a JSON object"));
    }
}
