using ImagePromotion.Port;
using NUnit.Framework;

namespace ImagePromotion.Tests.Port;

[TestFixture]
public sealed class PortActionInputsTests
{
    // Shapes as Port renders {{ .entity }}, an entity-format input and the payload of deploy/port/promote-action.json.
    private const string Entity = """
        {"identifier":"messenger_staging","title":"messenger staging","blueprint":"running_service",
         "properties":{"gitPath":"apps/messenger/staging/deployment.yml"},
         "relations":{"image":"messenger-sha256-abc","service":"messenger"}}
        """;
    private const string Production = """
        {"identifier":"messenger_prod","title":"messenger prod","properties":{"gitPath":"apps/messenger/prod/deployment.yml","locked":false},"relations":{"image":null}}
        """;
    private const string Payload = """
        {"trigger":{"by":{"orgId":"org_1","userId":"u_1","user":{"email":"dev@example.com"}},"origin":"UI","at":"2026-11-23T10:00:00Z"},
         "runId":"r_Ab12Cd","blueprint":"running_service"}
        """;

    [Test]
    public void Reads_what_the_promotion_needs()
    {
        var inputs = PortActionInputs.Parse(Entity, Production, Payload);
        Assert.That(inputs.RunId, Is.EqualTo("r_Ab12Cd"));
        Assert.That(inputs.SourceRuntime, Is.EqualTo("messenger_staging"));
        Assert.That(inputs.SourceImage, Is.EqualTo("messenger-sha256-abc"));
        Assert.That(inputs.Service, Is.EqualTo("messenger"));
        Assert.That(inputs.ProductionRuntime, Is.EqualTo("messenger_prod"));
        Assert.That(inputs.ProductionGitPath, Is.EqualTo("apps/messenger/prod/deployment.yml"));
        Assert.That(inputs.TriggeredByEmail, Is.EqualTo("dev@example.com"));
    }

    [Test]
    public void From_environment_uses_the_workflow_variable_names_and_tolerates_absent_ones()
    {
        var inputs = PortActionInputs.FromEnvironment(new Dictionary<string, string?> { ["PORT_PRODUCTION_RUNTIME"] = Production, ["PORT_ENTITY"] = "" });
        Assert.That(inputs.ProductionRuntime, Is.EqualTo("messenger_prod"));
        Assert.That(inputs.RunId, Is.Null);
        Assert.That(inputs.SourceImage, Is.Null);
    }

    [Test]
    public void Non_json_and_non_object_inputs_name_the_input()
    {
        var e = Assert.Throws<PromotionException>(() => PortActionInputs.Parse("service", null, null));
        Assert.That(e!.Message, Does.Contain("'entity'").And.Contain("PORT_ENTITY").And.Not.Contain("\n"));
        e = Assert.Throws<PromotionException>(() => PortActionInputs.Parse(null, "[1]", null));
        Assert.That(e!.Message, Does.Contain("'production_runtime'"));
    }
}
