// Evidence: list what is attached to an image's digest, verify each piece (structure, then signature against the
// trusted keys) and print kind, signer key id and verdict; non-zero exit when a piece shows tampering.
Phase("Evidence", "List and verify the evidence attached to --image=REF: kind, signer key id, verdict (--trusted-key=PATH, repeatable; default the trust: of --environment)",
    async () =>
    {
        var image = Argument<string>("image", null) ?? throw new PromotionException("Evidence needs --image=REF: the image whose evidence to list, e.g. 127.0.0.1:5702/team/sample-app:production");
        var paths = Arguments<string>("trusted-key", Array.Empty<string>());
        var keys = paths.Select(p => ImagePromotion.Evidence.Signing.VerificationKey.FromFile(UserPath(p))).ToArray();
        var trusted = ImagePromotion.Evidence.TrustedKeys.ForEveryKind(keys);
        var source = string.Join(", ", keys.Select(k => $"{k.KeyId} ({k.Source})")) + " for every kind of evidence";
        // Without --trusted-key: what the gates of --environment (default: the release environment) trust, per kind.
        var environment = Argument<string>("environment", null) ?? Session.Config.Targets(Session.Config.Release.Environment)[0].Name;
        if (keys.Length == 0 && Session.Config.TrustOf(environment) is { } trust)
        {
            trusted = Session.TrustFor(environment).WithPushRecords();
            source = $"{trust.Origin} (as the gates of {environment} trust them): " + string.Join(", ", ImagePromotion.Evidence.Attestations.EvidenceKind.All
                .Select(k => $"{k.Plural} {string.Join("/", Session.TrustFor(environment).For(k).Select(v => v.KeyId[..8] + "…").DefaultIfEmpty("none"))}"));
        }
        var inspection = await new ImagePromotion.Evidence.EvidenceInspector(Session.Transport, Log)
            .InspectAsync(ImagePromotion.Registry.ImageReference.Parse(image), trusted, source, CancellationToken.None);
        inspection.ThrowIfAnyFailed();
    }, "image=REF", "trusted-key=PATH");

// Keys: the role key pairs evidence is signed with (ECDSA P-256, PKCS#8 private key, SPKI public key), made once.
Phase("Keys", "Create the evidence signing key pairs in --keys-directory, of every role or of --role",
    async () =>
    {
        var directory = PathArgument("keys-directory")
            ?? throw new PromotionException("Keys needs --keys-directory=DIR: where to write <role>.key and <role>.pub");
        var roles = KeyRoles();
        foreach (var role in roles)
        {
            if (Session.DryRun) { Log.Information($"dry run: would create the {role.ToString().ToLowerInvariant()} key pair in {directory} unless it exists"); continue; }
            var passphrase = EnvironmentVariable(ImagePromotion.Evidence.Signing.EvidenceSigners.PassphraseVariable(role));
            ImagePromotion.Logging.SecretRedactor.Shared.Add(passphrase);
            var (pair, created) = ImagePromotion.Evidence.Signing.KeyPairs.Ensure(directory, role, passphrase);
            Log.Information(created
                ? $"{role.ToString().ToLowerInvariant()}: created {pair.PrivateKeyPath}{(pair.Encrypted ? " (encrypted)" : "")} and {pair.PublicKeyPath}, key id {pair.KeyId}"
                : $"{role.ToString().ToLowerInvariant()}: {pair.PrivateKeyPath} exists (key id {pair.KeyId}): left as it is");
        }
        await System.Threading.Tasks.Task.CompletedTask;
    }, "keys-directory=DIR", "role=build|scan|approval|promotion");

/// <summary>The key roles of --role=ROLE, or every role.</summary>
ImagePromotion.Evidence.Attestations.KeyRole[] KeyRoles() => Argument<string>("role", null) is { } one
    ? new[] { Enum.TryParse<ImagePromotion.Evidence.Attestations.KeyRole>(one, ignoreCase: true, out var r) && !int.TryParse(one, out _) ? r
        : throw new PromotionException($"--role={one} is not a key role: use build, scan, approval or promotion") }
    : Enum.GetValues<ImagePromotion.Evidence.Attestations.KeyRole>();
