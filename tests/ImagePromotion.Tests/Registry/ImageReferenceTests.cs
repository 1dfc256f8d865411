using ImagePromotion.Registry;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

[TestFixture]
public sealed class ImageReferenceTests
{
    private const string Sha = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    // Expected values are what `docker pull` resolves (distribution/reference ParseNormalizedNamed).
    [TestCase("nginx", "docker.io", "library/nginx", null)]
    [TestCase("nginx:1.27", "docker.io", "library/nginx", "1.27")]
    [TestCase("bitnami/redis:7", "docker.io", "bitnami/redis", "7")]
    [TestCase("docker.io/nginx", "docker.io", "library/nginx", null)]
    [TestCase("index.docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest")]
    [TestCase("registry-1.docker.io/acme/app", "docker.io", "acme/app", null)]
    [TestCase("localhost/app", "localhost", "app", null)]
    [TestCase("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1")]
    [TestCase("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000", "team/app", "v1")]
    [TestCase("myregistry:5000/app", "myregistry:5000", "app", null)]
    [TestCase("ghcr.io/acme/deep/path/app:sha-1a2b3c", "ghcr.io", "acme/deep/path/app", "sha-1a2b3c")]
    [TestCase("[::1]:5000/app:v2", "[::1]:5000", "app", "v2")]
    [TestCase("MyHost/app", "MyHost", "app", null)] // an upper-case first component can only be a host
    [TestCase("registry.example.com/a_b/c__d/e---f.g:V_1.0-rc", "registry.example.com", "a_b/c__d/e---f.g", "V_1.0-rc")]
    public void Parse_normalises_as_docker_does(string text, string registry, string repository, string? tag)
    {
        var r = ImageReference.Parse(text);

        Assert.Multiple(() =>
        {
            Assert.That(r.Registry, Is.EqualTo(registry));
            Assert.That(r.Repository, Is.EqualTo(repository));
            Assert.That(r.Tag, Is.EqualTo(tag));
            Assert.That(r.Digest, Is.Null);
            Assert.That(r.Name, Is.EqualTo(registry + "/" + repository));
            Assert.That(r.Identifier, Is.EqualTo(tag ?? "latest"));
        });
    }

    [Test]
    public void Tag_and_digest_may_stand_together_and_the_digest_is_what_is_asked_for()
    {
        var r = ImageReference.Parse($"127.0.0.1:5000/team/app:v1@{Sha}");

        Assert.That(r.Registry, Is.EqualTo("127.0.0.1:5000"));
        Assert.That(r.Repository, Is.EqualTo("team/app"));
        Assert.That(r.Tag, Is.EqualTo("v1"));
        Assert.That(r.Digest.ToString(), Is.EqualTo(Sha));
        Assert.That(r.Identifier, Is.EqualTo(Sha));
        Assert.That(r.ToString(), Is.EqualTo($"127.0.0.1:5000/team/app:v1@{Sha}"));
    }

    [Test]
    public void Digest_only_reference_with_a_port_keeps_the_port_out_of_the_tag()
    {
        var r = ImageReference.Parse($"localhost:5000/app@{Sha}");

        Assert.That(r.Registry, Is.EqualTo("localhost:5000"));
        Assert.That(r.Repository, Is.EqualTo("app"));
        Assert.That(r.Tag, Is.Null);
        Assert.That(r.Digest.ToString(), Is.EqualTo(Sha));
    }

    [Test]
    public void ToString_round_trips_through_Parse()
    {
        foreach (var text in new[] { "nginx:1", "127.0.0.1:5000/a/b:c", $"ghcr.io/x/y@{Sha}", "localhost/app" })
        {
            var once = ImageReference.Parse(text);
            Assert.That(ImageReference.Parse(once.ToString()), Is.EqualTo(once), text);
        }
    }

    [Test]
    public void Docker_hub_is_served_from_its_api_host()
    {
        Assert.That(ImageReference.Parse("nginx").ApiHost, Is.EqualTo("registry-1.docker.io"));
        Assert.That(ImageReference.Parse("ghcr.io/a/b").ApiHost, Is.EqualTo("ghcr.io"));
    }

    [TestCase("localhost:5000/app", true)]
    [TestCase("127.0.0.1:5000/app", true)]
    [TestCase("127.1.2.3/app", true)]
    [TestCase("[::1]:5000/app", true)]
    [TestCase("ghcr.io/app", false)]
    [TestCase("10.0.0.1:5000/app", false)]
    public void Loopback_registries_are_recognised(string text, bool loopback) =>
        Assert.That(ImageReference.Parse(text).IsLoopback, Is.EqualTo(loopback));

    [TestCase("Nginx", "lowercase")]
    [TestCase("docker.io/Acme/app", "lowercase")]
    [TestCase("ghcr.io/acme/App:v1", "lowercase")]
    [TestCase("app:-bad", "not a valid tag")]
    [TestCase("app:.bad", "not a valid tag")]
    [TestCase("app:ba/d", "not a valid registry")] // a colon before the last slash makes a host:port
    [TestCase("app:caf\u00e9", "not a valid tag")]        // Docker's \w is ASCII only
    [TestCase("app@sha256:abc", "is not a digest")]
    [TestCase("app@md5:0123456789abcdef0123456789abcdef", "is not a digest")]
    [TestCase("app@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "is not a digest")]
    [TestCase("https://ghcr.io/acme/app:v1", "scheme")]
    [TestCase("http://localhost:5000/app", "scheme")]
    [TestCase(" nginx", "white space")]
    [TestCase("nginx ", "white space")]
    [TestCase("ghcr.io/acme/my app", "white space")]
    [TestCase("", "empty")]
    [TestCase("   ", "empty")]
    [TestCase("ghcr.io/", "repository name is missing")]
    [TestCase("ghcr.io/acme//app", "not a valid repository path")]
    [TestCase("ghcr.io/acme/app_", "not a valid repository path")]
    [TestCase("bad_host.io/app", "not a valid registry")]
    public void Invalid_references_fail_with_one_line_naming_the_input(string text, string why)
    {
        var ex = Assert.Catch<PromotionException>(() => ImageReference.Parse(text))!;

        Assert.That(ex.Message, Does.Contain($"'{text}'"));
        Assert.That(ex.Message, Does.Contain(why));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
        Assert.That(ImageReference.TryParse(text, out var parsed), Is.False);
        Assert.That(parsed, Is.Null);
    }

    [Test]
    public void A_tag_longer_than_128_characters_is_refused_and_128_is_accepted()
    {
        Assert.That(ImageReference.Parse("app:" + new string('a', 128)).Tag, Has.Length.EqualTo(128));

        var ex = Assert.Catch<PromotionException>(() => ImageReference.Parse("app:" + new string('a', 129)))!;
        Assert.That(ex.Message, Does.Contain("at most 128"));
    }

    [Test]
    public void A_name_longer_than_255_characters_is_refused_and_255_is_accepted()
    {
        Assert.That(ImageReference.Parse("ghcr.io/" + new string('a', 247)).Name, Has.Length.EqualTo(255));

        var text = "ghcr.io/" + new string('a', 248);
        var ex = Assert.Catch<PromotionException>(() => ImageReference.Parse(text))!;

        Assert.That(ex.Message, Does.Contain("longer than 255"));
        Assert.That(ex.Message, Does.Contain($"'{text}'"));
    }

    [Test]
    public void WithTag_validates_the_tag_and_drops_the_digest()
    {
        var pinned = ImageReference.Parse($"ghcr.io/acme/app@{Sha}");

        var tagged = pinned.WithTag("v2");
        Assert.That(tagged.ToString(), Is.EqualTo("ghcr.io/acme/app:v2"));
        Assert.That(tagged.Digest, Is.Null);

        var ex = Assert.Catch<PromotionException>(() => pinned.WithTag("not valid"))!;
        Assert.That(ex.Message, Does.Contain("'not valid'"));
        Assert.Catch<PromotionException>(() => pinned.WithTag("v1\n"));
        Assert.Catch<PromotionException>(() => pinned.WithTag("v\u00e9"));
    }
}
