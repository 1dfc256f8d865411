using System.Text;
using System.Text.Json;
using ImagePromotion.Logging;
using ImagePromotion.Registry.Auth;
using NUnit.Framework;

namespace ImagePromotion.Tests.Registry;

/// <summary>
/// Credential lookup as CI sees it: per-registry environment variables, then Docker's config.json
/// (<c>credHelpers</c>, <c>auths</c>, <c>credsStore</c>). Helpers are real executables on PATH.
/// </summary>
[TestFixture, NonParallelizable] // the credential-helper tests put a directory on the process PATH
public sealed class CredentialStoreTests
{
    private string _dir = null!;
    private string _dockerConfig = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "imgpromo-creds-" + Guid.NewGuid().ToString("N"));
        _dockerConfig = Path.Combine(_dir, "docker");
        Directory.CreateDirectory(_dockerConfig);
    }

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static string Secret(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N");

    private Dictionary<string, string?> Env(params (string Key, string Value)[] extra)
    {
        // HOME points at an empty directory so the developer's own ~/.docker never leaks in.
        var env = new Dictionary<string, string?> { ["HOME"] = Path.Combine(_dir, "home"), ["DOCKER_CONFIG"] = _dockerConfig };
        foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    private void WriteConfig(object config) =>
        File.WriteAllText(Path.Combine(_dockerConfig, "config.json"), JsonSerializer.Serialize(config));

    private static string Auth(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    [TestCase("127.0.0.1:5000", "REGISTRY_127_0_0_1_5000_")]
    [TestCase("ghcr.io", "REGISTRY_GHCR_IO_")]
    [TestCase("my-registry.example.com:443", "REGISTRY_MY_REGISTRY_EXAMPLE_COM_443_")]
    [TestCase("[::1]:5000", "REGISTRY____1__5000_")]
    public void Environment_prefix_upper_cases_the_host_and_turns_the_rest_to_underscores(string registry, string prefix) =>
        Assert.That(CredentialStore.EnvironmentPrefix(registry), Is.EqualTo(prefix));

    [Test]
    public void Environment_variables_per_registry_come_first()
    {
        var password = Secret("env-pass");
        WriteConfig(new { auths = new Dictionary<string, object> { ["127.0.0.1:5000"] = new { auth = Auth("cfg-user", "cfg-pass") } } });
        var store = new CredentialStore(Env(("REGISTRY_127_0_0_1_5000_USERNAME", "ci-bot"), ("REGISTRY_127_0_0_1_5000_PASSWORD", password)));

        var c = store.Get("127.0.0.1:5000");

        Assert.That(c.Username, Is.EqualTo("ci-bot"));
        Assert.That(c.Password, Is.EqualTo(password));
        Assert.That(c.Source, Does.Contain("REGISTRY_127_0_0_1_5000_USERNAME"));
        Assert.That(c.ToString(), Does.Not.Contain(password));
        Assert.That(SecretRedactor.Shared.Redact("pw=" + password), Is.EqualTo("pw=***"));
        Assert.That(store.Get("127.0.0.1:5001").Username, Is.Null, "another port is another registry");
    }

    [Test]
    public void A_token_variable_gives_a_bearer_token_used_as_is()
    {
        var token = Secret("env-token");
        var store = new CredentialStore(Env(("REGISTRY_GHCR_IO_TOKEN", token)));

        var c = store.Get("ghcr.io");

        Assert.That(c.RegistryToken, Is.EqualTo(token));
        Assert.That(c.Username, Is.Null);
        Assert.That(c.IsAnonymous, Is.False);
    }

    [Test]
    public void A_user_name_without_a_password_is_not_a_credential()
    {
        var store = new CredentialStore(Env(("REGISTRY_GHCR_IO_USERNAME", "half"), ("REGISTRY_GHCR_IO_PASSWORD", "")));
        Assert.That(store.Get("ghcr.io").IsAnonymous, Is.True);
    }

    [Test]
    public void Docker_config_auths_base64_user_and_password_are_read_from_DOCKER_CONFIG()
    {
        var password = Secret("cfg-pass:with-colon");
        WriteConfig(new
        {
            auths = new Dictionary<string, object>
            {
                ["https://registry.example.com"] = new { auth = Auth("robot$ci", password) },
                ["https://index.docker.io/v1/"] = new { auth = Auth("hubuser", "hub-secret-1") },
            },
        });
        var store = new CredentialStore(Env());

        var c = store.Get("registry.example.com");
        Assert.That(c.Username, Is.EqualTo("robot$ci"));
        Assert.That(c.Password, Is.EqualTo(password), "only the first colon separates user and password");
        Assert.That(c.Source, Does.Contain(Path.Combine(_dockerConfig, "config.json")));

        Assert.That(store.Get("docker.io").Username, Is.EqualTo("hubuser"), "Docker Hub is filed under its v1 index URL");
        Assert.That(store.Get("other.example.com").IsAnonymous, Is.True);
    }

    [Test]
    public void HOME_dot_docker_is_used_when_DOCKER_CONFIG_is_unset()
    {
        var home = Path.Combine(_dir, "home");
        Directory.CreateDirectory(Path.Combine(home, ".docker"));
        File.WriteAllText(Path.Combine(home, ".docker", "config.json"),
            JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { ["ghcr.io"] = new { username = "homeuser", password = "home-pass-1" } } }));

        var store = new CredentialStore(new Dictionary<string, string?> { ["HOME"] = home });

        Assert.That(store.Get("ghcr.io").Username, Is.EqualTo("homeuser"));
        Assert.That(store.Get("ghcr.io").Password, Is.EqualTo("home-pass-1"));
    }

    [Test]
    public void Identity_token_is_kept_as_a_refresh_token_and_registered_as_a_secret()
    {
        var identity = Secret("identity");
        WriteConfig(new { auths = new Dictionary<string, object> { ["myacr.azurecr.io"] = new { auth = Auth("00000000-0000-0000-0000-000000000000", ""), identitytoken = identity } } });

        var c = new CredentialStore(Env()).Get("myacr.azurecr.io");

        Assert.That(c.IdentityToken, Is.EqualTo(identity));
        Assert.That(SecretRedactor.Shared.Redact(identity), Is.EqualTo("***"));
    }

    [Test]
    public void Broken_docker_config_names_the_file_and_line()
    {
        File.WriteAllText(Path.Combine(_dockerConfig, "config.json"), "{\n  \"auths\": {\n    oops\n}");

        var ex = Assert.Catch<PromotionException>(() => new CredentialStore(Env()).Get("ghcr.io"))!;

        Assert.That(ex.Message, Does.Contain(Path.Combine(_dockerConfig, "config.json")));
        Assert.That(ex.Message, Does.Contain("line 3"));
        Assert.That(ex.Message, Does.Contain("DOCKER_CONFIG"));
    }

    [Test]
    public void An_auth_value_that_is_not_base64_is_refused_without_echoing_it()
    {
        WriteConfig(new { auths = new Dictionary<string, object> { ["ghcr.io"] = new { auth = "%%%not-base64%%%" } } });

        var ex = Assert.Catch<PromotionException>(() => new CredentialStore(Env()).Get("ghcr.io"))!;

        Assert.That(ex.Message, Does.Contain("docker login"));
        Assert.That(ex.Message, Does.Not.Contain("not-base64"));
    }

    [Test]
    public void Nothing_configured_is_anonymous()
    {
        var c = new CredentialStore(Env()).Get("ghcr.io");
        Assert.That(c.IsAnonymous, Is.True);
        Assert.That(c, Is.SameAs(RegistryCredential.Anonymous));
    }

    [Test]
    public void Explicit_credentials_win_over_everything()
    {
        var store = new CredentialStore(Env(("REGISTRY_GHCR_IO_USERNAME", "env"), ("REGISTRY_GHCR_IO_PASSWORD", "env-pass-1")));
        store.SetExplicit("ghcr.io", new RegistryCredential("explicit", "explicit-pass-1", "configuration"));

        Assert.That(store.Get("ghcr.io").Username, Is.EqualTo("explicit"));
    }

    // --- credential helpers: a real executable on PATH, speaking the docker-credential-helpers protocol ---

    [Test]
    public void CredHelpers_entry_runs_the_helper_with_the_server_on_stdin_and_wins_over_auths()
    {
        var secret = Secret("helper-secret");
        using var path = WithHelper("test", secret);
        WriteConfig(new
        {
            credHelpers = new Dictionary<string, string> { ["registry.example.com"] = "test" },
            auths = new Dictionary<string, object> { ["registry.example.com"] = new { auth = Auth("from-auths", "auths-pass-1") } },
        });

        var c = new CredentialStore(Env()).Get("registry.example.com");

        Assert.That(c.Username, Is.EqualTo("helper-user"));
        Assert.That(c.Password, Is.EqualTo(secret));
        Assert.That(c.Source, Is.EqualTo("credential helper docker-credential-test"));
        Assert.That(File.ReadAllText(path.StdinLog), Is.EqualTo("get registry.example.com\n"));
        Assert.That(SecretRedactor.Shared.Redact(secret), Is.EqualTo("***"));
    }

    [Test]
    public void CredsStore_is_asked_when_no_entry_names_the_registry()
    {
        var secret = Secret("store-secret");
        using var path = WithHelper("test", secret);
        WriteConfig(new
        {
            credsStore = "test",
            auths = new Dictionary<string, object> { ["other.example.com"] = new { auth = Auth("o", "other-pass-1") } },
        });
        var store = new CredentialStore(Env());

        var c = store.Get("127.0.0.1:5000");

        Assert.That(c.Username, Is.EqualTo("helper-user"));
        Assert.That(c.Password, Is.EqualTo(secret));
        Assert.That(store.Get("other.example.com").Username, Is.EqualTo("o"), "an auths entry comes before the store");
        Assert.That(File.ReadAllText(path.StdinLog), Is.EqualTo("get 127.0.0.1:5000\n"));
    }

    [Test]
    public void Docker_hub_is_asked_for_under_its_index_url()
    {
        using var path = WithHelper("test", Secret("hub-secret"));
        WriteConfig(new { credsStore = "test" });

        new CredentialStore(Env()).Get("docker.io");

        Assert.That(File.ReadAllText(path.StdinLog), Is.EqualTo("get https://index.docker.io/v1/\n"));
    }

    [Test]
    public void A_helper_token_user_means_an_identity_token()
    {
        var secret = Secret("refresh");
        using var _ = WithHelper("test", secret, user: "<token>");
        WriteConfig(new { credHelpers = new Dictionary<string, string> { ["myacr.azurecr.io"] = "test" } });

        var c = new CredentialStore(Env()).Get("myacr.azurecr.io");

        Assert.That(c.IdentityToken, Is.EqualTo(secret));
        Assert.That(c.Username, Is.Null);
        Assert.That(c.Password, Is.Null);
    }

    [Test]
    public void A_helper_that_knows_no_credentials_means_anonymous()
    {
        using var _ = WithHelper("test", Secret("unused"), knows: "somewhere.else");
        WriteConfig(new { credsStore = "test" });

        Assert.That(new CredentialStore(Env()).Get("ghcr.io").IsAnonymous, Is.True);
    }

    [Test]
    public void A_helper_missing_from_PATH_is_named_with_the_fix()
    {
        WriteConfig(new { credHelpers = new Dictionary<string, string> { ["ghcr.io"] = "absent-" + Guid.NewGuid().ToString("N")[..8] } });

        var ex = Assert.Catch<PromotionException>(() => new CredentialStore(Env()).Get("ghcr.io"))!;

        Assert.That(ex.Message, Does.Match("docker-credential-absent-[0-9a-f]{8} is not on PATH"));
        Assert.That(ex.Message, Does.Contain(Path.Combine(_dockerConfig, "config.json")));
    }

    [Test]
    public void A_helper_printing_garbage_is_named()
    {
        using var _ = WithHelperScript("test", "#!/bin/sh\ncat >/dev/null\necho 'not json'\n");
        WriteConfig(new { credsStore = "test" });

        var ex = Assert.Catch<PromotionException>(() => new CredentialStore(Env()).Get("ghcr.io"))!;

        Assert.That(ex.Message, Does.Contain("docker-credential-test"));
        Assert.That(ex.Message, Does.Contain("not JSON"));
    }

    [Test]
    public void A_helper_that_hangs_is_stopped_after_the_timeout_and_named()
    {
        // A keychain or GPG prompt in CI never gets an answer; the run must not wait for it.
        using var _ = WithHelperScript("test", "#!/bin/sh\nsleep 30\n");
        WriteConfig(new { credsStore = "test" });
        var store = new CredentialStore(Env()) { HelperTimeout = TimeSpan.FromSeconds(1) };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var ex = Assert.Catch<PromotionException>(() => store.Get("ghcr.io"))!;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(ex.Message, Does.Contain("docker-credential-test did not answer within 1 s for ghcr.io"));
    }

    private HelperOnPath WithHelper(string name, string secret, string user = "helper-user", string? knows = null)
    {
        var log = Path.Combine(_dir, "helper-stdin.log");
        // Answers "get" like docker-credential-pass does; unknown servers get the keychain's "not found" and exit 1.
        var condition = knows is null ? "true" : $"[ \"$server\" = \"{knows}\" ]";
        var script = $$"""
            #!/bin/sh
            server=$(cat)
            printf '%s %s\n' "$1" "$server" >> '{{log}}'
            if {{condition}}; then
              printf '{"ServerURL":"%s","Username":"{{user}}","Secret":"{{secret}}"}' "$server"
            else
              echo "credentials not found in native keychain"; exit 1
            fi
            """;
        return WithHelperScript(name, script.ReplaceLineEndings("\n"), log);
    }

    private HelperOnPath WithHelperScript(string name, string script, string? stdinLog = null)
    {
        var bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        var exe = Path.Combine(bin, "docker-credential-" + name);
        File.WriteAllText(exe, script);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new HelperOnPath(bin, stdinLog ?? Path.Combine(_dir, "unused.log"));
    }

    /// <summary>Prepends a directory to the process PATH (helpers are found the way Docker finds them) and restores it.</summary>
    private sealed class HelperOnPath : IDisposable
    {
        private readonly string? _previous = Environment.GetEnvironmentVariable("PATH");

        public HelperOnPath(string directory, string stdinLog)
        {
            StdinLog = stdinLog;
            Environment.SetEnvironmentVariable("PATH", directory + Path.PathSeparator + _previous);
        }

        public string StdinLog { get; }

        public void Dispose() => Environment.SetEnvironmentVariable("PATH", _previous);
    }
}
