using ImagePromotion.Gates;

namespace ImagePromotion.Tests.Gates;

[TestFixture]
public sealed class PromotionPolicyTests
{
    private static readonly string[] Chain = ["dev", "staging", "production"];

    private static PromotionVariables Image(string branch = "main") => new()
    {
        Environment = "production",
        SourceEnvironment = "staging",
        Branch = branch,
        Commit = "4f2a9c1",
        Tags = ["v1.4.2", "latest"],
        Labels = new Dictionary<string, string> { ["team"] = "payments", ["app.kubernetes.io/name"] = "api" },
        ImageAge = TimeSpan.FromHours(30),
        ScanCounts = new Dictionary<string, long> { ["CRITICAL"] = 0, ["high"] = 3 },
        Builder = "ci-bot",
        Requester = "alice",
        Deployer = "release-bot",
    };

    private static GateResult Conditions(string? pass, string? fail, PromotionVariables? vars = null) =>
        new PromotionPolicyEvaluator(new PromotionPolicy { Name = "prod", PassCondition = pass, FailCondition = fail })
            .EvaluateConditions(vars ?? Image());

    [Test]
    public void No_conditions_means_every_image_passes()
    {
        var r = Conditions(null, "  ");
        Assert.That(r.Passed, Is.True);
        Assert.That(r.Reason, Does.Contain("every image is eligible"));
    }

    [Test]
    public void Pass_condition_match_passes()
    {
        var r = Conditions("branch == 'main' && scan.critical == 0", null);
        Assert.That(r, Is.EqualTo(new GateResult("conditions", true, "policy 'prod': image matches passCondition `branch == 'main' && scan.critical == 0`")));
    }

    [Test]
    public void Pass_condition_miss_fails()
    {
        var r = Conditions("branchName.startsWith('hotfix')", null);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("does not match passCondition"));
    }

    [Test]
    public void Fail_condition_wins_when_both_match()
    {
        var r = Conditions("branch == 'main'", "scan.high > 2");
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("matches failCondition `scan.high > 2`").And.Contain("fail wins"));
    }

    [Test]
    public void Only_fail_condition_not_matching_passes()
    {
        var r = Conditions(null, "'latest' in tags && size(tags) == 1");
        Assert.That(r.Passed, Is.True);
        Assert.That(r.Reason, Does.Contain("does not match failCondition"));
    }

    [Test]
    public void Runtime_error_in_pass_condition_is_a_failed_gate_with_the_error()
    {
        var r = Conditions("labels.owner == 'me'", null);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("could not be evaluated").And.Contain("no such key"));
    }

    [Test]
    public void A_condition_reading_a_missing_scan_says_to_scan_not_a_CEL_error()
    {
        var r = Conditions("scan.critical == 0", null, Image() with { ScanCounts = null });
        Assert.That(r, Is.EqualTo(new GateResult("conditions", false,
            "policy 'prod': passCondition `scan.critical == 0` reads the scan result, and the image has none: run ./build.sh --target=Scan (or Scan --image=REF) first, then promote again")));
    }

    [Test]
    public void Runtime_error_in_fail_condition_blocks_even_when_pass_matches()
    {
        var r = Conditions("true", "imageAgeSeconds / 0 > 1");
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("failCondition").And.Contain("division by zero"));
    }

    [Test]
    public void Unknown_scan_makes_scan_condition_fail_not_pass()
    {
        var r = Conditions(null, "scan.critical > 0", Image() with { ScanCounts = null });
        Assert.That(r.Passed, Is.False, "a fail condition that cannot be evaluated must not be read as 'not matched'");
    }

    [Test]
    public void Non_bool_condition_fails_with_its_type()
    {
        var r = Conditions("labels.team", null);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("returned string \"payments\", not a bool"));
    }

    [Test]
    public void Variables_expose_documented_names()
    {
        var r = Conditions(
            "environment == 'production' && sourceEnvironment == 'staging' && commit == '4f2a9c1' && builder == 'ci-bot'"
            + " && requester == 'alice' && deployer == 'release-bot' && imageAge > duration('24h') && imageAgeSeconds == 108000"
            + " && scan.critical == 0 && scan.medium == 0 && image.labels['app.kubernetes.io/name'] == 'api'"
            + " && image.tags.exists(t, t.matches('^v[0-9]+')) && labels.team == 'payments'", null);
        Assert.That(r.Passed, Is.True, r.Reason);
    }

    [Test]
    public void Extra_variables_are_visible_but_cannot_shadow_builtins()
    {
        var vars = Image() with { Extra = new Dictionary<string, object?> { ["ticket"] = "CHG-1", ["branch"] = "evil" } };
        Assert.That(Conditions("ticket.startsWith('CHG-') && branch == 'main'", null, vars).Passed, Is.True);
    }

    [TestCase(-1)]
    [TestCase(7)]
    public void Approver_count_outside_zero_to_six_is_rejected(int count)
    {
        var e = Assert.Throws<PromotionException>(() => new PromotionPolicyEvaluator(new PromotionPolicy { Name = "prod", RequiredApprovals = count }))!;
        Assert.That(e.Message, Is.EqualTo($"policy 'prod': approverCount {count} is out of range; use 0 to 6"));
    }

    [Test]
    public void More_required_approvals_than_designated_approvers_is_rejected()
    {
        var policy = new PromotionPolicy { Name = "prod", RequiredApprovals = 3, Approvers = ["a", "b"] };
        Assert.That(() => policy.Validate(), Throws.TypeOf<PromotionException>().With.Message.Contains("exceeds the 2 designated approvers"));
    }

    [Test]
    public void Condition_syntax_error_names_policy_field_and_column()
    {
        var policy = new PromotionPolicy { Name = "prod", FailCondition = "scan.critical >> 0" };
        var e = Assert.Throws<PromotionException>(() => new PromotionPolicyEvaluator(policy))!;
        Assert.That(e.Message, Does.StartWith("policy 'prod' failCondition: CEL expression 'scan.critical >> 0'"));
        Assert.That(e.Message, Does.Contain("column 16"));
    }

    [TestCase("staging", "production", false, true, "follows")]
    [TestCase(null, "dev", false, true, "build → dev follows")]
    [TestCase("dev", "production", false, false, "skips staging; policy 'prod' does not allow direct promotion")]
    [TestCase("dev", "production", true, true, "direct promotion dev → production skips staging")]
    [TestCase(null, "production", false, false, "skips dev, staging")]
    [TestCase("production", "staging", true, false, "does not move forward")]
    [TestCase("qa", "production", true, false, "source environment 'qa' is not in the promotion chain")]
    [TestCase("staging", "prod-eu", true, false, "target environment 'prod-eu' is not in the promotion chain dev → staging → production")]
    public void Promotion_path(string? source, string target, bool allowDirect, bool passed, string reason)
    {
        var evaluator = new PromotionPolicyEvaluator(new PromotionPolicy { Name = "prod", AllowDirectPromotion = allowDirect });
        var r = evaluator.EvaluatePath(Image() with { SourceEnvironment = source, Environment = target }, Chain);
        Assert.That(r.Passed, Is.EqualTo(passed), r.Reason);
        Assert.That(r.Reason, Does.Contain(reason));
    }

    [Test]
    public void Evaluate_reports_missing_reviews_when_approvals_are_required()
    {
        var evaluator = new PromotionPolicyEvaluator(new PromotionPolicy { Name = "prod", RequiredApprovals = 1 });
        var results = evaluator.Evaluate(Image(), Chain);
        Assert.That(results.Select(r => r.Gate), Is.EqualTo(new[] { "conditions", "promotion-path", "approvals" }));
        Assert.That(results[2].Passed, Is.False);
        Assert.That(new GateReport(results).AllPassed, Is.False);
    }

    [Test]
    public void Evaluate_all_gates_pass_for_a_compliant_promotion()
    {
        var policy = new PromotionPolicy
        {
            Name = "prod", PassCondition = "scan.critical == 0", FailCondition = "'latest' in tags && size(tags) == 1",
            RequiredApprovals = 1, Approvers = ["bob", "carol"],
        };
        var reviews = new[] { new Review("bob", ReviewState.Approved, "abc123", DateTimeOffset.UnixEpoch) };
        var results = new PromotionPolicyEvaluator(policy).Evaluate(Image(), Chain, new ApprovalRequest(reviews, "abc123", "alice", "ci-bot", "release-bot"));
        Assert.That(new GateReport(results).AllPassed, Is.True, new GateReport(results).ToTable());
    }
}
