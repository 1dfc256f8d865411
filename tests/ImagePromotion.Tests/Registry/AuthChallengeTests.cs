using ImagePromotion.Registry.Auth;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

[TestFixture]
public sealed class AuthChallengeTests
{
    [Test]
    public void Bearer_challenge_yields_realm_service_and_scope()
    {
        var all = AuthChallenge.ParseAll(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull\"");

        var c = all.Single();
        Assert.That(c.IsBearer, Is.True);
        Assert.That(c.IsBasic, Is.False);
        Assert.That(c.Realm, Is.EqualTo("https://auth.docker.io/token"));
        Assert.That(c.Service, Is.EqualTo("registry.docker.io"));
        Assert.That(c.Scope, Is.EqualTo("repository:library/nginx:pull"));
    }

    [Test]
    public void Commas_inside_quoted_values_do_not_split_parameters()
    {
        // A mount needs two scopes, and registries put actions as "pull,push" inside one quoted value.
        var c = AuthChallenge.ParseAll(
            "Bearer realm=\"https://ghcr.io/token\", service=\"ghcr.io\", scope=\"repository:acme/app:pull,push repository:acme/base:pull\"")
            .Single();

        Assert.That(c.Scope, Is.EqualTo("repository:acme/app:pull,push repository:acme/base:pull"));
        Assert.That(c.Service, Is.EqualTo("ghcr.io"));
        Assert.That(c.Parameters, Has.Count.EqualTo(3));
    }

    [Test]
    public void Escaped_quotes_and_unquoted_tokens_are_read()
    {
        var c = AuthChallenge.ParseAll("Bearer realm=\"https://a.example/t?x=\\\"y\\\"\",error=invalid_token").Single();

        Assert.That(c.Realm, Is.EqualTo("https://a.example/t?x=\"y\""));
        Assert.That(c.Parameters["error"], Is.EqualTo("invalid_token"));
    }

    [Test]
    public void Several_challenges_in_one_header_are_kept_apart()
    {
        var all = AuthChallenge.ParseAll(
            "Basic realm=\"Registry Realm, EU\", Bearer realm=\"https://auth.example/token\",service=\"reg\"");

        Assert.That(all.Select(c => c.Scheme), Is.EqualTo(new[] { "Basic", "Bearer" }));
        Assert.That(all[0].IsBasic, Is.True);
        Assert.That(all[0].Realm, Is.EqualTo("Registry Realm, EU"));
        Assert.That(all[1].Realm, Is.EqualTo("https://auth.example/token"));
        Assert.That(all[1].Service, Is.EqualTo("reg"));
        Assert.That(all[1].Scope, Is.Null);
    }

    [Test]
    public void Basic_challenge_as_distribution_sends_it()
    {
        var c = AuthChallenge.ParseAll("Basic realm=\"test-registry\"").Single();

        Assert.That(c.IsBasic, Is.True);
        Assert.That(c.Realm, Is.EqualTo("test-registry"));
    }

    [Test]
    public void Scheme_and_parameter_names_are_case_insensitive()
    {
        var c = AuthChallenge.ParseAll("bearer Realm=\"https://x/t\" , SERVICE=\"s\"").Single();

        Assert.That(c.IsBearer, Is.True);
        Assert.That(c.Realm, Is.EqualTo("https://x/t"));
        Assert.That(c.Service, Is.EqualTo("s"));
    }

    [Test]
    public void A_scheme_without_parameters_and_an_empty_header_parse()
    {
        Assert.That(AuthChallenge.ParseAll(""), Is.Empty);
        var c = AuthChallenge.ParseAll("Negotiate").Single();
        Assert.That(c.Scheme, Is.EqualTo("Negotiate"));
        Assert.That(c.Parameters, Is.Empty);
        Assert.That(c.IsBearer || c.IsBasic, Is.False);
    }
}
