using ImagePromotion.Evidence.Attestations;

namespace ImagePromotion.Evidence.Signing;

/// <summary>One generated key pair: where its two files are and the key id.</summary>
public sealed record GeneratedKeyPair(KeyRole Role, string PrivateKeyPath, string PublicKeyPath, string KeyId, bool Encrypted);

/// <summary>
/// Makes the role key pairs (the Keys target): ECDSA P-256, the private key as PKCS#8 PEM in <c>&lt;role&gt;.key</c>
/// (mode 0600 where the file system has modes; encrypted when a passphrase is given), the public key as SPKI PEM in
/// <c>&lt;role&gt;.pub</c>. The same files as `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` and
/// `openssl pkey -pubout` make. An existing key is never overwritten: a key that is replaced silently would orphan
/// every piece of evidence it signed.
/// </summary>
public static class KeyPairs
{
    /// <summary>The file name stem of a role's key pair (<c>scan</c> for <c>scan.key</c> and <c>scan.pub</c>).</summary>
    public static string FileName(KeyRole role) => role.ToString().ToLowerInvariant();

    /// <summary>Creates the key pair of <paramref name="role"/> in <paramref name="directory"/>, or returns the existing one unchanged.</summary>
    /// <returns>The pair, and whether it was created now.</returns>
    public static (GeneratedKeyPair Pair, bool Created) Ensure(string directory, KeyRole role, string? passphrase = null)
    {
        var privatePath = Path.Combine(directory, FileName(role) + ".key");
        var publicPath = Path.Combine(directory, FileName(role) + ".pub");
        if (File.Exists(privatePath) || File.Exists(publicPath))
        {
            if (!File.Exists(publicPath))
                throw new PromotionException($"{privatePath} exists but {publicPath} does not: export it with `openssl pkey -in {privatePath} -pubout -out {publicPath}`");
            using var existing = VerificationKey.FromFile(publicPath);
            return (new GeneratedKeyPair(role, privatePath, publicPath, existing.KeyId, false), false);
        }
        Directory.CreateDirectory(directory);
        using var key = SigningKey.Generate(role, privatePath);
        WritePrivate(privatePath, key.ExportPkcs8Pem(passphrase));
        File.WriteAllText(publicPath, key.PublicKey.ToPem() + "\n");
        return (new GeneratedKeyPair(role, privatePath, publicPath, key.KeyId, !string.IsNullOrEmpty(passphrase)), true);
    }

    private static void WritePrivate(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(pem);
        writer.Write('\n');
    }
}
