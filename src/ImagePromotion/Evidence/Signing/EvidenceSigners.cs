using ImagePromotion.Evidence.Attestations;
using ImagePromotion.Logging;

namespace ImagePromotion.Evidence.Signing;

/// <summary>
/// The signing keys this job holds, one per role, read from the environment when first needed:
/// <c>PROMOTION_SIGNING_KEY_&lt;ROLE&gt;</c> (the PEM itself, as CI secrets are handed over) or
/// <c>PROMOTION_SIGNING_KEY_&lt;ROLE&gt;_FILE</c> (a path), and <c>PROMOTION_SIGNING_KEY_&lt;ROLE&gt;_PASSPHRASE</c> for an
/// encrypted key; ROLE is BUILD, SCAN, APPROVAL or PROMOTION. A job holds only the keys of what it vouches for.
/// </summary>
public sealed class EvidenceSigners : IDisposable
{
    /// <summary>Prefix of the signing-key variables; the role name (<see cref="EvidenceKind.RoleName"/>) follows.</summary>
    public const string VariablePrefix = "PROMOTION_SIGNING_KEY_";

    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly SecretRedactor _redactor;
    private readonly string _baseDirectory;
    private readonly Dictionary<KeyRole, SigningKey?> _loaded = new();
    private readonly object _gate = new();

    private readonly string? _keysDirectory;

    /// <param name="baseDirectory">Relative <c>…_FILE</c> paths are resolved against it; default the current directory.</param>
    /// <param name="environment">The process environment the key variables are read from.</param>
    /// <param name="redactor">Learns each key and passphrase before they are used; default <see cref="SecretRedactor.Shared"/>.</param>
    /// <param name="keysDirectory">
    /// The sandbox's key directory (<c>sandbox.keys</c>): a role whose variables are unset signs with <c>&lt;role&gt;.key</c>
    /// there when that file exists. Null everywhere but the sandbox, where one machine plays every job.
    /// </param>
    public EvidenceSigners(IReadOnlyDictionary<string, string?> environment, SecretRedactor? redactor = null, string? baseDirectory = null, string? keysDirectory = null)
    {
        _environment = environment;
        _redactor = redactor ?? SecretRedactor.Shared;
        _baseDirectory = baseDirectory ?? Directory.GetCurrentDirectory();
        _keysDirectory = keysDirectory;
    }

    /// <summary>No keys at all: every piece is written unsigned (and says so).</summary>
    public static EvidenceSigners None { get; } = new(new Dictionary<string, string?>());

    /// <summary>The variable holding the role's PEM key itself: <c>PROMOTION_SIGNING_KEY_SCAN</c>.</summary>
    public static string Variable(KeyRole role) => VariablePrefix + EvidenceKind.RoleName(role);
    /// <summary>The variable holding a path to the role's PEM key: <c>PROMOTION_SIGNING_KEY_SCAN_FILE</c>.</summary>
    public static string FileVariable(KeyRole role) => Variable(role) + "_FILE";
    /// <summary>The variable holding the passphrase of the role's encrypted key: <c>PROMOTION_SIGNING_KEY_SCAN_PASSPHRASE</c>.</summary>
    public static string PassphraseVariable(KeyRole role) => Variable(role) + "_PASSPHRASE";

    /// <summary>The role's key, or null when neither variable is set. A set but unusable key is an error naming the variable.</summary>
    public SigningKey? For(KeyRole role)
    {
        lock (_gate)
        {
            if (_loaded.TryGetValue(role, out var known)) return known;
            var key = Load(role);
            _loaded[role] = key;
            return key;
        }
    }

    private SigningKey? Load(KeyRole role)
    {
        var inline = Value(Variable(role));
        var file = Value(FileVariable(role));
        var passphrase = _environment.GetValueOrDefault(PassphraseVariable(role));
        if (inline is not null && file is not null)
            throw new PromotionException($"both {Variable(role)} and {FileVariable(role)} are set: set only one of them");
        if (inline is not null)
            return SigningKey.FromPem(inline, passphrase, role, Variable(role), PassphraseVariable(role), _redactor);
        if (file is null)
        {
            if (_keysDirectory is null || !File.Exists(Path.Combine(_keysDirectory, KeyPairs.FileName(role) + ".key"))) return null;
            var sandboxKey = Path.Combine(_keysDirectory, KeyPairs.FileName(role) + ".key");
            return SigningKey.FromPem(File.ReadAllText(sandboxKey), passphrase, role, $"the sandbox key {sandboxKey}", PassphraseVariable(role), _redactor);
        }
        var path = Path.GetFullPath(Path.Combine(_baseDirectory, file));
        string pem;
        try { pem = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PromotionException($"{FileVariable(role)}: cannot read {path} ({ex.Message.TrimEnd('.')}): point it at the {role.ToString().ToLowerInvariant()} key's PEM file");
        }
        return SigningKey.FromPem(pem, passphrase, role, $"{FileVariable(role)} ({path})", PassphraseVariable(role), _redactor);
    }

    private string? Value(string name) => _environment.GetValueOrDefault(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v : null;

    /// <summary>Disposes every key loaded so far.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var key in _loaded.Values) key?.Dispose();
            _loaded.Clear();
        }
    }
}
