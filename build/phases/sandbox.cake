// Sandbox: the README's first command. Registries on loopback, the configuration's images built once and
// promoted dev -> staging -> production (every environment of the group) -> release tag, then the digest table.
// A phase, so a dry run starts the registries too: the plan reads them (and writes nothing to them).
Phase("SandboxUp", "Install what the sandbox needs (Debian/Ubuntu) and start its loopback registries",
    async () =>
    {
        var sandbox = new ImagePromotion.Pipeline.Sandbox.LocalSandbox(Session.Config, Log);
        await sandbox.EnsurePrerequisitesAsync(CancellationToken.None);
        sandbox.EnsureKeys(); // like the registries, in a dry run too: the plan verifies evidence with them
        await sandbox.StartRegistriesAsync(CancellationToken.None);
        await sandbox.EnsureGitOpsRepositoriesAsync(RepositoryPath("examples/gitops"), CancellationToken.None);
    });

Task("SandboxDown")
    .Description("Stop the sandbox registries")
    .Does(() => new ImagePromotion.Pipeline.Sandbox.LocalSandbox(Session.Config, Log).StopRegistries());

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
    .Description("Print each application, environment and image with its reference and digest")
    .Does(() => PrintDigestTable());
