using System.Text.Json;
using Gateway.Core.Guardrails;
using Gateway.Core.Policy;

namespace Gateway.Tests.Core.Guardrails;

/// <summary>Policy conditions on facts: the called server's labels and what the session received before.</summary>
public sealed class SessionFactsPolicyTests
{
    private static readonly PolicyRule PrivateToExternal = new()
    {
        Name = "private-to-external",
        Effect = PolicyEffect.Escalate,
        Conditions =
        [
            new(PolicyFacts.ServerLabels, ConditionOperator.Equals, JsonDocument.Parse("\"external\"").RootElement.Clone()),
            new(PolicyFacts.SessionLabels, ConditionOperator.Equals, JsonDocument.Parse("\"private\"").RootElement.Clone()),
        ],
    };

    private static PolicyInput Call(string server, IReadOnlyList<string> labels, SessionFacts session) =>
        new("alice", [], server, "t", AccessClass.Read, null, labels, session);

    [Fact]
    public void AnExternalCall_IsEscalated_OnlyAfterThePrivateResult()
    {
        var engine = new PolicyEngine([PrivateToExternal]);
        var registry = new SessionFactsRegistry();
        var session = registry.For("s1");

        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call("web", ["external"], session)).Effect);
        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call("vault", ["private"], session)).Effect);
        session.Record(["private"], []);
        Assert.Equal(("private-to-external", PolicyEffect.Escalate), (engine.Evaluate(Call("web", ["external"], session)).Rule, engine.Evaluate(Call("web", ["external"], session)).Effect));

        // Another session saw nothing; an ended session is forgotten.
        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call("web", ["external"], registry.For("s2"))).Effect);
        registry.Forget("s1");
        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call("web", ["external"], registry.For("s1"))).Effect);
    }

    [Fact]
    public void FactsThatCouldNotBeKept_CountAgainstTheAgent()
    {
        var registry = new SessionFactsRegistry(maxSessions: 1);
        registry.For("s1");
        var unknown = registry.For("s2");
        Assert.False(unknown.Known);
        Assert.Equal(PolicyEffect.Escalate, new PolicyEngine([PrivateToExternal]).Evaluate(Call("web", ["external"], unknown)).Effect);
        Assert.Equal(PolicyEffect.Allow, new PolicyEngine([PrivateToExternal]).Evaluate(Call("web", ["external"], registry.For(null))).Effect);
    }

    [Fact]
    public void FindingsOfEarlierCalls_CanBlock()
    {
        var rule = new PolicyRule
        {
            Name = "after-injection",
            Effect = PolicyEffect.Block,
            Classes = [AccessClass.Write, AccessClass.Destructive],
            Conditions = [new(PolicyFacts.SessionFindings, ConditionOperator.In, JsonDocument.Parse("""["injection","unicode.tag"]""").RootElement.Clone())],
        };
        var session = new SessionFactsRegistry().For("s");
        var write = new PolicyInput("alice", [], "fs", "write", AccessClass.Write, null, [], session);
        Assert.Equal(PolicyEffect.Allow, new PolicyEngine([rule]).Evaluate(write).Effect);
        session.Record([], ["unicode.tag"]);
        Assert.Equal(PolicyEffect.Block, new PolicyEngine([rule]).Evaluate(write).Effect);
    }

    [Fact]
    public void SessionFacts_AreBounded()
    {
        var session = new SessionFactsRegistry().For("s");
        session.Record([.. Enumerable.Range(0, 100).Select(i => $"l{i}")], [.. Enumerable.Range(0, 100).Select(i => $"k{i}")]);
        session.Record(["l0", "l1"], []);
        Assert.Equal(SessionFacts.MaxEntries, session.Labels.Count);
        Assert.Equal(SessionFacts.MaxEntries, session.FindingKinds.Count);
    }

    /// <summary>
    /// A session that received more labels than it keeps can no longer say whether it received a given one: at the limit
    /// its facts decide, past it every condition on them is undecided (against the agent), not taken as not matching.
    /// </summary>
    [Fact]
    public void SessionFacts_PastTheirLimit_AreUndecided()
    {
        var engine = new PolicyEngine([PrivateToExternal]);
        var session = new SessionFactsRegistry().For("s");
        Assert.True(session.Record([.. Enumerable.Range(0, SessionFacts.MaxEntries).Select(i => $"l{i}")], []));
        Assert.True(session.Known);
        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call("web", ["external"], session)).Effect);

        // The 65th label (it might have been "private") does not fit.
        Assert.True(session.Record(["private"], []));
        Assert.False(session.Known);
        Assert.DoesNotContain("private", session.Labels);
        Assert.Equal(PolicyEffect.Escalate, engine.Evaluate(Call("web", ["external"], session)).Effect);
        Assert.False(session.Record(["another"], []));
    }

    [Theory]
    [InlineData("@server.labels", "equals", true)]
    [InlineData("@session.findings", "exists", true)]
    [InlineData("@session.labels", "gt", false)]
    [InlineData("@session.labels", "under", false)]
    public void TheValidator_AcceptsFactPaths_WithSetOperatorsOnly(string path, string op, bool valid)
    {
        ConditionOperators.TryParse(op, out var parsed);
        var value = op == "gt" ? "1" : op == "under" ? "\"/x\"" : "\"private\"";
        var rule = new PolicyRule { Name = "r", Effect = PolicyEffect.Block, Conditions = [new(path, parsed, JsonDocument.Parse(value).RootElement.Clone())] };
        Assert.Equal(valid, new PolicyRuleValidator().Validate(rule).IsValid);
    }
}
