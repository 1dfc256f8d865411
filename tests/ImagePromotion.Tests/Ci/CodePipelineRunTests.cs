using ImagePromotion.Tests.Ci.Runner;

namespace ImagePromotion.Tests.Ci;

/// <summary>
/// deploy/aws run as CodePipeline and CodeBuild would (<see cref="CodePipelineRunner"/>): one execution for commit C
/// against registries that require a login (user AWS and the password <c>aws ecr get-login-password</c> prints, as
/// with ECR). C is built once, in the Build stage; the Push stage pushes that stage's layout and builds nothing; the
/// digest flows through the exported variables to the approval's message, production and the release tag; every
/// variable each buildspec lists is exported; every production gate of the shipped configuration passes; the S3 cache
/// the Build stage saves is what every later build restores.
/// </summary>
[TestFixture, NonParallelizable, Order(951)]
public sealed class CodePipelineRunTests
{
    private static readonly string Password = "ecr-" + Guid.NewGuid().ToString("N");
    private static readonly string GitOpsToken = "ghp_" + Guid.NewGuid().ToString("N");

    [Test]
    public async Task One_execution_builds_C_once_and_carries_its_digest_to_production_and_the_release_tag()
    {
        PipelineWorld.RequireTools();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var ct = cts.Token;
        using var machine = new RunnerMachine(Password);
        await using var world = await PipelineWorld.StartAsync(machine, "AWS", Password, ct);
        await machine.CreateOriginAsync(RepositoryRoot.Path, ct);
        var (commit, signingKeys) = await PipelineWorld.SigningKeysAsync(machine, ct);
        var pipeline = new CodePipelineRunner(machine, RepositoryRoot.Path);
        foreach (var (key, value) in world.ConfigurationOverrides()) pipeline.MachineEnvironment[key] = value;
        pipeline.SecretsManager["image-promotion/gitops:token"] = GitOpsToken;
        foreach (var (variable, pem) in signingKeys)
            pipeline.SecretsManager["image-promotion/signing-keys:" + variable["PROMOTION_SIGNING_KEY_".Length..].ToLowerInvariant()] = pem;
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ConnectionArn"] = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/abc", ["FullRepositoryId"] = "acme/sample-app",
            ["ArtifactBucket"] = "acme-artifacts", ["CodePipelineRoleName"] = "codepipeline-role",
            ["CodeBuildServiceRole"] = "arn:aws:iam::123456789012:role/codebuild", ["ApprovalTopicArn"] = "arn:aws:sns:eu-west-1:123456789012:approvals",
            // The shipped configuration, where this repository keeps it.
            ["PromotionConfig"] = "examples/sandbox/promotion.yaml",
        })
            pipeline.Parameters[key] = value;

        var execution = await pipeline.RunAsync(commit, ct);
        Assert.That(execution.Succeeded, Is.True, execution.ToString());
        Assert.That(execution.Stages.Select(s => s.Stage), Is.EqualTo(new[] { "Source", "Build", "Push", "Scan", "PromoteStaging", "Approval", "PromoteProductionRepo", "ReleaseTag" }));

        // Built once, in the Build stage, by its privileged project; the Push project is not privileged and builds nothing.
        Assert.That(machine.Builds, Has.Count.EqualTo(1), execution.ToString());
        Assert.That(machine.Builds[0], Does.StartWith(execution["Build"].BuildId + "\t"));
        Assert.That(execution["Build"].Privileged, Is.True);
        Assert.That(execution["Push"].Privileged, Is.False);

        var digest = execution.Variables["BuildVariables"]["DIGEST"];
        Assert.That(digest, Does.Match("^sha256:[0-9a-f]{64}$"));
        foreach (var ns in new[] { "PushVariables", "ScanVariables", "StagingVariables", "ProductionVariables" })
        {
            Assert.That(execution.Variables[ns]["DIGEST"], Is.EqualTo(digest), ns);
            Assert.That(execution.Variables[ns]["IMAGE"], Does.EndWith("@" + digest), ns);
        }
        Assert.That(execution.Variables["ReleaseVariables"]["IMAGE"], Does.EndWith("@" + digest));
        Assert.That(execution.Variables["StagingVariables"]["PULL_REQUEST_URL"], Is.Empty, "exported, empty: staging opens no pull request here");
        Assert.That(execution["Approval"].ApprovalMessage, Does.Contain(digest), "the approver sees the digest that production gets");

        Assert.That(await world.DigestAsync(world.Dev, $"git-{commit[..12]}", ct), Is.EqualTo(digest));
        Assert.That(await world.RevisionLabelAsync(world.Dev, digest, ct), Is.EqualTo(commit));
        Assert.That(await world.DigestAsync(world.Dev, "staging", ct), Is.EqualTo(digest));
        Assert.That(await world.DigestAsync(world.Prod, "production", ct), Is.EqualTo(digest));
        var releaseTag = execution.Variables["ReleaseVariables"]["RELEASE_TAG"];
        Assert.That(await world.DigestAsync(world.Prod, releaseTag, ct), Is.EqualTo(digest));

        // One S3 cache entry, saved by the Build stage, restored by every later build: the NuGet packages, the module
        // and the compiled scripts are not fetched or rebuilt stage after stage.
        var cacheKey = execution["Build"].CacheKey;
        Assert.That(cacheKey, Does.Match("^image-promotion-[0-9a-f]{64}$"));
        Assert.That(execution["Build"].CacheRestored, Is.Null, "nothing cached before the first build");
        Assert.That(pipeline.Cache.Keys, Is.EqualTo(new[] { cacheKey }), "the sources did not change within the execution: one entry");
        foreach (var stage in new[] { "Push", "Scan", "PromoteStaging", "PromoteProductionRepo", "ReleaseTag" })
            Assert.That(execution[stage].CacheRestored, Is.EqualTo(cacheKey), stage);

        var record = PipelineWorld.Journal(execution["PromoteProductionRepo"].SourceDirectory!).Single(r => r.Kind == "promotion" && r.To == "production");
        Assert.That((record.Outcome, record.Digest, record.Commit), Is.EqualTo(("promoted", digest, commit)));
        Assert.That(record.Gates.Select(g => g.Gate), Is.EquivalentTo(new[] { "conditions", "promotion-path", "environment-lock", "staging", "scan" }));
        Assert.That(record.Gates.Where(g => !g.Passed), Is.Empty, "every gate satisfied by what the pipeline itself did");
    }
}
