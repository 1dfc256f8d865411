using System.Text.Json.Nodes;
using NUnit.Framework;

namespace ImagePromotion.Tests.Ci;

/// <summary>deploy/port/promote-action.json against the workflow it starts.</summary>
[TestFixture]
public sealed class PortActionTests
{
    private static JsonObject Action() =>
        JsonNode.Parse(File.ReadAllText(RepositoryRoot.File("deploy/port/promote-action.json")))!.AsObject();

    [Test]
    public void Workflow_inputs_are_exactly_the_workflow_dispatch_inputs()
    {
        var invocation = Action()["invocationMethod"]!.AsObject();
        Assert.That(invocation["type"]!.GetValue<string>(), Is.EqualTo("GITHUB"));
        var workflowFile = invocation["workflow"]!.GetValue<string>();
        Assert.That(workflowFile, Is.EqualTo("promote-production.yml"));

        var dispatchInputs = RepositoryYaml.Load(".github/workflows/" + workflowFile).Map("on").Map("workflow_dispatch").Map("inputs");
        var sent = invocation["workflowInputs"]!.AsObject().Select(p => p.Key);
        Assert.That(sent, Is.EquivalentTo(dispatchInputs.Keys.Cast<string>()));
        Assert.That(invocation["reportWorkflowStatus"]!.GetValue<bool>(), Is.True, "Port closes the run if the workflow dies before the pipeline reports");
    }

    [Test]
    public void The_payload_carries_the_run_id_the_workflow_reads()
    {
        var payload = Action()["invocationMethod"]!["workflowInputs"]!["port_payload"]!.AsObject();
        Assert.That(payload["runId"]!.GetValue<string>(), Is.EqualTo("{{ .run.id }}"));
        var workflowText = File.ReadAllText(RepositoryRoot.File(".github/workflows/promote-production.yml"));
        Assert.That(workflowText, Does.Contain("fromJson(inputs.port_payload).runId"));
    }

    [Test]
    public void User_inputs_are_the_production_runtime_the_digest_shown_and_auto_merge()
    {
        var trigger = Action()["trigger"]!.AsObject();
        Assert.That(trigger["blueprintIdentifier"]!.GetValue<string>(), Is.EqualTo("running_service"));
        var properties = trigger["userInputs"]!["properties"]!.AsObject();
        Assert.That(properties.Select(p => p.Key), Is.EquivalentTo(new[] { "production_runtime", "digest", "auto_merge_pr" }));
        // The digest the user sees is the staging runtime's image (the image entity's identifier is its digest), and it is what is sent.
        Assert.That(properties["digest"]!["default"]!["jqQuery"]!.GetValue<string>(), Is.EqualTo(".entity.relations.image"));
        Assert.That(properties["digest"]!["pattern"]!.GetValue<string>(), Is.EqualTo("^sha256:[0-9a-f]{64}$"));
        Assert.That(trigger["userInputs"]!["required"]!.AsArray().Select(r => r!.GetValue<string>()), Does.Contain("digest"));
        Assert.That(properties["production_runtime"]!["format"]!.GetValue<string>(), Is.EqualTo("entity"));
        Assert.That(properties["production_runtime"]!["blueprint"]!.GetValue<string>(), Is.EqualTo("running_service"));
        Assert.That(properties["auto_merge_pr"]!["type"]!.GetValue<string>(), Is.EqualTo("boolean"));
        var workflowInputs = Action()["invocationMethod"]!["workflowInputs"]!.AsObject();
        foreach (var (name, _) in properties)
            Assert.That(workflowInputs[name]!.GetValue<string>(), Is.EqualTo($"{{{{ .inputs.{name} }}}}"));
    }
}
