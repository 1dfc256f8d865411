// Sandbox: the README's first command. Registries on loopback, the sample app built once and promoted
// dev -> staging -> production -> release tag, then the digest table.
Task("SandboxUp")
    .Description("Install what the sandbox needs (Debian/Ubuntu) and start its loopback registries")
    .Does(async () =>
    {
        var sandbox = new Sandbox(Session.Config, Log);
        await sandbox.EnsurePrerequisitesAsync(CancellationToken.None);
        await sandbox.StartRegistriesAsync(CancellationToken.None);
        await sandbox.EnsureGitOpsRepositoriesAsync(RepositoryPath("examples/gitops"), CancellationToken.None);
    });

Task("SandboxDown")
    .Description("Stop the sandbox registries")
    .Does(() => new Sandbox(Session.Config, Log).StopRegistries());

Task("Sandbox")
    .Description("Run the whole pipeline on the local sandbox and print the digest table")
    .IsDependentOn("SandboxUp")
    .IsDependentOn("PushDev")
    .IsDependentOn("Scan")
    .IsDependentOn("PromoteStaging")
    .IsDependentOn("PromoteProduction")
    .IsDependentOn("ReleaseTag")
    .Does(() => PrintDigestTable());

Task("Status")
    .Description("Print each environment's reference and digest")
    .Does(() => PrintDigestTable());
