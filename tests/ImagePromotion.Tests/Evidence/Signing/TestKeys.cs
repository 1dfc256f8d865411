using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Evidence.Signing;
using ImagePromotion.Logging;
using ImagePromotion.Tests.Infrastructure;

namespace ImagePromotion.Tests.Evidence.Signing;

/// <summary>Key pairs made the way the README tells a team to make them: with openssl, into a temporary folder.</summary>
internal sealed class TestKeys : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("evidence-keys-").FullName;

    /// <summary>`openssl genpkey` (PKCS#8, optionally AES-256 encrypted) and `openssl pkey -pubout`; returns the two paths.</summary>
    public async Task<(string PrivateKey, string PublicKey)> OpensslAsync(string name, string? passphrase = null)
    {
        if (!ExternalTool.Exists("openssl")) Assert.Ignore("openssl is not installed");
        var key = Path.Combine(Directory, name + ".key");
        var pub = Path.Combine(Directory, name + ".pub");
        var gen = new List<string> { "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key };
        if (passphrase is not null) gen.AddRange(["-aes-256-cbc", "-pass", "pass:" + passphrase]);
        await ExternalTool.RunAsync("openssl", gen);
        var export = new List<string> { "pkey", "-in", key, "-pubout", "-out", pub };
        if (passphrase is not null) export.AddRange(["-passin", "pass:" + passphrase]);
        await ExternalTool.RunAsync("openssl", export);
        return (key, pub);
    }

    /// <summary>A signing key of <paramref name="role"/> made by the module's own generator (the Keys target).</summary>
    public SigningKey Generate(KeyRole role, string name)
    {
        var dir = Path.Combine(Directory, name);
        var (pair, _) = KeyPairs.Ensure(dir, role);
        return SigningKey.FromPem(File.ReadAllText(pair.PrivateKeyPath), null, role, pair.PrivateKeyPath, "(none)", new SecretRedactor());
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
