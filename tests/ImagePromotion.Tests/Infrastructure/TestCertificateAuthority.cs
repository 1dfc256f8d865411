using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ImagePromotion.Tests.Infrastructure;

/// <summary>
/// A throw-away CA and a server certificate for 127.0.0.1/localhost, made with the openssl CLI so the
/// files are exactly what an operator would hand to a registry (PEM cert, PEM key, PEM CA bundle).
/// </summary>
public sealed class TestCertificateAuthority
{
    private static readonly SemaphoreSlim SharedGate = new(1, 1);
    private static TestCertificateAuthority? _shared;

    private TestCertificateAuthority(string directory)
    {
        Directory = directory;
        CaCertificate = X509Certificate2.CreateFromPem(File.ReadAllText(CaCertificatePath));
    }

    public string Directory { get; }
    /// <summary>The CA bundle to give a client (PEM).</summary>
    public string CaCertificatePath => Path.Combine(Directory, "ca.pem");
    public string ServerCertificatePath => Path.Combine(Directory, "server.pem");
    public string ServerKeyPath => Path.Combine(Directory, "server.key");
    public X509Certificate2 CaCertificate { get; }

    /// <summary>One CA per test run: creating keys costs time and nothing in a test depends on a fresh one.</summary>
    public static async Task<TestCertificateAuthority> SharedAsync(CancellationToken cancellationToken = default)
    {
        await SharedGate.WaitAsync(cancellationToken);
        try
        {
            if (_shared is null)
            {
                _shared = await CreateAsync(
                    Path.Combine(Path.GetTempPath(), $"imgpromo-ca-{Environment.ProcessId}-{Guid.NewGuid():N}"), cancellationToken);
                var directory = _shared.Directory;
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    try { System.IO.Directory.Delete(directory, recursive: true); } catch (IOException) { }
                };
            }
            return _shared;
        }
        finally { SharedGate.Release(); }
    }

    /// <summary>A fresh CA (e.g. to prove that a client rejects a server signed by a CA it was not given).</summary>
    public static async Task<TestCertificateAuthority> CreateAsync(string directory, CancellationToken cancellationToken = default)
    {
        System.IO.Directory.CreateDirectory(directory);
        string[] ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        await ExternalTool.RunAsync("openssl",
            ["req", "-x509", .. ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3",
             "-subj", "/CN=ImagePromotion Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            cancellationToken, directory);
        await ExternalTool.RunAsync("openssl",
            ["req", .. ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            cancellationToken, directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n", cancellationToken);
        await ExternalTool.RunAsync("openssl",
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "3", "-sha256", "-extfile", "server.ext"],
            cancellationToken, directory);
        return new TestCertificateAuthority(directory);
    }

    /// <summary>A handler that trusts exactly this CA (not the system store) and never follows redirects.</summary>
    public SocketsHttpHandler CreateTrustingHandler() => CreateTrustingHandler(CaCertificate);

    public static SocketsHttpHandler CreateTrustingHandler(X509Certificate2? ca) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        SslOptions = ca is null ? new SslClientAuthenticationOptions() : new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null && ChainsTo(new X509Certificate2(certificate), ca, errors),
        },
    };

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 ca, SslPolicyErrors errors)
    {
        // A name mismatch is a real failure; only the chain is re-checked against the custom root.
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
