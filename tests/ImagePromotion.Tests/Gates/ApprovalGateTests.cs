using ImagePromotion.Gates;

namespace ImagePromotion.Tests.Gates;

[TestFixture]
public sealed class ApprovalGateTests
{
    private const string Head = "9d8e7f6a5b4c3d2e1f00";
    private const string Old = "1111111111111111aaaa";
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 9, 0, 0, TimeSpan.Zero);

    private static Review R(string login, ReviewState state, int minute, string commit = Head) => new(login, state, commit, T0.AddMinutes(minute));

    private static PromotionPolicy Policy(int n, params string[] approvers) =>
        new() { Name = "prod", RequiredApprovals = n, Approvers = approvers };

    private static GateResult Gate(PromotionPolicy policy, string requester = "alice", string? builder = "ci-bot", string? deployer = "release-bot", params Review[] reviews) =>
        ApprovalGate.Evaluate(policy, new ApprovalRequest(reviews, Head, requester, builder, deployer));

    [Test]
    public void Two_designated_approvals_on_head_pass()
    {
        var r = Gate(Policy(2, "bob", "carol", "dave"), reviews: [R("bob", ReviewState.Approved, 1), R("carol", ReviewState.Approved, 2)]);
        Assert.That(r.Passed, Is.True);
        Assert.That(r.Reason, Is.EqualTo("2 of 2 required approval(s) on 9d8e7f6a5b4c; counted: bob, carol; excluded: none"));
    }

    [Test]
    public void Approval_on_older_commit_does_not_count()
    {
        var r = Gate(Policy(1), reviews: [R("bob", ReviewState.Approved, 1, Old)]);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("bob (approved older commit 111111111111)").And.Contain("needs 1 more"));
    }

    [Test]
    public void Later_changes_requested_cancels_approval()
    {
        var r = Gate(Policy(1), reviews: [R("bob", ReviewState.Approved, 1), R("bob", ReviewState.ChangesRequested, 5)]);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("bob (requested changes)"));
    }

    [Test]
    public void Approval_after_changes_requested_counts()
    {
        var r = Gate(Policy(1), reviews: [R("bob", ReviewState.ChangesRequested, 1), R("bob", ReviewState.Approved, 5)]);
        Assert.That(r.Passed, Is.True);
    }

    [Test]
    public void Review_order_is_by_time_not_by_list_position()
    {
        var r = Gate(Policy(1), reviews: [R("bob", ReviewState.ChangesRequested, 9), R("bob", ReviewState.Approved, 2)]);
        Assert.That(r.Passed, Is.False);
    }

    [Test]
    public void Comment_after_approval_keeps_the_approval()
    {
        var r = Gate(Policy(1), reviews: [R("bob", ReviewState.Approved, 1), R("bob", ReviewState.Commented, 3)]);
        Assert.That(r.Passed, Is.True, r.Reason);
    }

    [Test]
    public void Dismissed_approval_does_not_count()
    {
        var r = Gate(Policy(1), reviews: [R("bob", ReviewState.Dismissed, 1)]);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("bob (approval dismissed)"));
    }

    [Test]
    public void Same_reviewer_approving_twice_counts_once()
    {
        var r = Gate(Policy(2), reviews: [R("bob", ReviewState.Approved, 1), R("BOB", ReviewState.Approved, 2)]);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.StartWith("policy 'prod' needs 1 more approval(s); 1 of 2"));
    }

    [Test]
    public void Non_designated_reviewer_is_excluded()
    {
        var r = Gate(Policy(1, "carol"), reviews: [R("mallory", ReviewState.Approved, 1)]);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Does.Contain("mallory (not a designated approver)"));
    }

    [Test]
    public void Requester_cannot_approve_unless_allowed()
    {
        var reviews = new[] { R("alice", ReviewState.Approved, 1) };
        var denied = Gate(Policy(1), reviews: reviews);
        Assert.That(denied.Passed, Is.False);
        Assert.That(denied.Reason, Does.Contain("alice (requester may not approve)"));
        var allowed = Gate(Policy(1) with { AllowRequestFromApprove = true }, reviews: reviews);
        Assert.That(allowed.Passed, Is.True);
    }

    [Test]
    public void Builder_cannot_approve_unless_allowed()
    {
        var reviews = new[] { R("ci-bot", ReviewState.Approved, 1) };
        Assert.That(Gate(Policy(1), reviews: reviews).Reason, Does.Contain("ci-bot (image builder may not approve)"));
        Assert.That(Gate(Policy(1) with { AllowImageBuilderFromApprove = true }, reviews: reviews).Passed, Is.True);
    }

    [Test]
    public void Approver_who_deploys_fails_unless_allowed()
    {
        var reviews = new[] { R("bob", ReviewState.Approved, 1), R("carol", ReviewState.Approved, 2) };
        var denied = Gate(Policy(1), deployer: "Carol", reviews: reviews);
        Assert.That(denied.Passed, Is.False);
        Assert.That(denied.Reason, Does.StartWith("Carol approved this promotion and may not also deploy it"));
        Assert.That(Gate(Policy(1) with { AllowApproverFromDeploy = true }, deployer: "carol", reviews: reviews).Passed, Is.True);
    }

    [Test]
    public void Zero_required_approvals_pass_without_reviews()
    {
        var r = Gate(Policy(0));
        Assert.That(r.Passed, Is.True);
        Assert.That(r.Reason, Does.Contain("0 of 0"));
    }

    [Test]
    public void Reason_lists_counted_and_excluded_with_why()
    {
        var r = Gate(Policy(3, "bob", "carol", "dave", "alice"), reviews:
        [
            R("bob", ReviewState.Approved, 1),
            R("carol", ReviewState.Approved, 2, Old),
            R("dave", ReviewState.Approved, 3),
            R("alice", ReviewState.Approved, 4),
            R("erin", ReviewState.Approved, 5),
        ]);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Reason, Is.EqualTo("policy 'prod' needs 1 more approval(s); 2 of 3 required approval(s) on 9d8e7f6a5b4c; counted: bob, dave; "
            + "excluded: carol (approved older commit 111111111111), alice (requester may not approve), erin (not a designated approver)"));
    }
}
