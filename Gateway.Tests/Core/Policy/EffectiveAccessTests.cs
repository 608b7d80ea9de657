using System.Text.Json;
using Gateway.Core.Grants;
using Gateway.Core.Policy;

namespace Gateway.Tests.Core.Policy;

/// <summary>"Who can call what": the grant check and the engine as a call runs them, with argument-dependent rules named, not guessed.</summary>
public sealed class EffectiveAccessTests
{
    private static readonly DateTimeOffset Now = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static GrantSet Grants(params string[] texts)
    {
        var errors = new List<string>();
        var set = GrantSet.Parse(texts, errors);
        Assert.Empty(errors);
        return set;
    }

    private static PolicyRule Rule(string name, PolicyEffect effect, string[]? agents = null, string[]? tools = null, AccessClass[]? classes = null, params ArgumentCondition[] conditions) => new()
    {
        Name = name,
        Effect = effect,
        Agents = agents ?? [],
        Tools = tools ?? [],
        Classes = classes ?? [],
        Conditions = conditions,
        Reason = name + " says so",
    };

    private static ArgumentCondition When(string path, ConditionOperator op, string json) => new(path, op, JsonDocument.Parse(json).RootElement.Clone());

    private static AccessDecision Decide(EffectiveAccess access, GrantSet grants, string tool = "pay", AccessClass cls = AccessClass.Write, string agent = "alice", string[]? tags = null, string[]? labels = null) =>
        access.Decide(agent, tags ?? [], grants, "payments", tool, cls, labels ?? [], Now);

    [Fact]
    public void NoGrant_IsHidden_AndSaysWhichGrantFellShort()
    {
        var access = new EffectiveAccess(PolicyEngine.Empty);

        var none = Decide(access, Grants("files/*"));
        Assert.Equal(AccessVerdict.Hidden, none.Verdict);
        Assert.Equal("not granted: no grant names this tool", none.Why);

        var low = Decide(access, Grants("payments/*:read"), cls: AccessClass.Destructive);
        Assert.Equal(AccessVerdict.Hidden, low.Verdict);
        Assert.Contains("'payments/*:read' reaches only read tools and this one is destructive", low.Why, StringComparison.Ordinal);

        var expired = Decide(access, Grants("payments/pay@2026-06-01T00:00:00Z"));
        Assert.Equal(AccessVerdict.Hidden, expired.Verdict);
        Assert.Contains("has expired", expired.Why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AccessClass.Read, AccessVerdict.Allow)]
    [InlineData(AccessClass.Write, AccessVerdict.Allow)]
    [InlineData(AccessClass.Destructive, AccessVerdict.Escalate)]
    public void GrantedWithoutRules_TheDefaultForTheClassDecides_AndTheGrantIsNamed(AccessClass cls, AccessVerdict expected)
    {
        var decision = Decide(new EffectiveAccess(PolicyEngine.Empty), Grants("files/*", "payments/*:destructive"), cls: cls);
        Assert.Equal(expected, decision.Verdict);
        Assert.Equal("payments/*:destructive", decision.Grant);
        Assert.Null(decision.Rule);
        Assert.Contains("no rule matched; the default for " + cls.Name(), decision.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void UnconditionalRules_DecideAsTheEngineDoes_ForTheAgentAndItsTags()
    {
        var engine = new PolicyEngine([
            Rule("finance-holds", PolicyEffect.Escalate, agents: ["tag:finance"], tools: ["pay"]),
            Rule("no-bob", PolicyEffect.Block, agents: ["bob"]),
        ]);
        var access = new EffectiveAccess(engine);
        var grants = Grants("payments/*");

        Assert.Equal(AccessVerdict.Allow, Decide(access, grants).Verdict);
        var held = Decide(access, grants, tags: ["finance"]);
        Assert.Equal((AccessVerdict.Escalate, "finance-holds"), (held.Verdict, held.Rule));
        Assert.Contains("rule 'finance-holds': finance-holds says so", held.Why, StringComparison.Ordinal);
        var blocked = Decide(access, grants, agent: "bob", tags: ["finance"]);
        Assert.Equal((AccessVerdict.Block, "no-bob"), (blocked.Verdict, blocked.Rule));
    }

    [Fact]
    public void ArgumentConditions_SayDependsOnArguments_NamingTheRuleAndTheBaseline()
    {
        var engine = new PolicyEngine([Rule("big-payments", PolicyEffect.Block, tools: ["pay"], conditions: When("amount", ConditionOperator.GreaterThan, "1000"))]);
        var decision = Decide(new EffectiveAccess(engine), Grants("payments/*"));

        Assert.Equal(AccessVerdict.DependsOnArguments, decision.Verdict);
        Assert.Equal(PolicyEffect.Allow, decision.Baseline);
        Assert.Equal(["block by rule 'big-payments' when amount gt 1000"], decision.Conditional);
        Assert.Contains("otherwise allow by no rule matched", decision.Why, StringComparison.Ordinal);

        // The rule's other criteria still decide whether it can apply at all.
        Assert.Equal(AccessVerdict.Allow, Decide(new EffectiveAccess(engine), Grants("payments/*"), tool: "refund").Verdict);
    }

    [Fact]
    public void AConditionalRuleThatCannotChangeTheEffect_IsNotReported()
    {
        // A stricter unconditional rule already decides: a conditional escalate cannot beat block; a conditional allow
        // cannot beat an unconditional escalate.
        var engine = new PolicyEngine([
            Rule("freeze", PolicyEffect.Block, tools: ["pay"]),
            Rule("hold-big", PolicyEffect.Escalate, tools: ["pay"], conditions: When("amount", ConditionOperator.GreaterThan, "1000")),
            Rule("hold-all", PolicyEffect.Escalate, tools: ["refund"]),
            Rule("small-refunds", PolicyEffect.Allow, tools: ["refund"], conditions: When("amount", ConditionOperator.LessThan, "10")),
        ]);
        var access = new EffectiveAccess(engine);

        var frozen = Decide(access, Grants("payments/*"));
        Assert.Equal((AccessVerdict.Block, "freeze"), (frozen.Verdict, frozen.Rule));
        Assert.Empty(frozen.Conditional);
        var held = Decide(access, Grants("payments/*"), tool: "refund");
        Assert.Equal((AccessVerdict.Escalate, "hold-all"), (held.Verdict, held.Rule));
    }

    [Fact]
    public void AConditionalAllow_CanLiftTheDefaultEscalation_SoItDepends()
    {
        var engine = new PolicyEngine([Rule("tiny-deletes", PolicyEffect.Allow, classes: [AccessClass.Destructive], conditions: When("count", ConditionOperator.LessOrEqual, "1"))]);
        var decision = Decide(new EffectiveAccess(engine), Grants("payments/*:destructive"), cls: AccessClass.Destructive);

        Assert.Equal(AccessVerdict.DependsOnArguments, decision.Verdict);
        Assert.Equal(PolicyEffect.Escalate, decision.Baseline);
        Assert.Equal(["allow by rule 'tiny-deletes' when count lte 1"], decision.Conditional);
    }

    [Fact]
    public void ServerLabelConditions_AreKnownBeforeTheCall_SessionConditionsAreNot()
    {
        var engine = new PolicyEngine([
            Rule("no-private", PolicyEffect.Block, conditions: When(PolicyFacts.ServerLabels, ConditionOperator.Equals, "\"private\"")),
            Rule("no-exfiltration", PolicyEffect.Escalate, conditions: When(PolicyFacts.SessionLabels, ConditionOperator.Equals, "\"private\"")),
        ]);
        var access = new EffectiveAccess(engine);

        var blocked = Decide(access, Grants("payments/*"), labels: ["private"]);
        Assert.Equal((AccessVerdict.Block, "no-private"), (blocked.Verdict, blocked.Rule));

        var depends = Decide(access, Grants("payments/*"), labels: ["public"]);
        Assert.Equal(AccessVerdict.DependsOnArguments, depends.Verdict);
        Assert.Equal(["escalate by rule 'no-exfiltration' when @session.labels equals \"private\""], depends.Conditional);
    }

    [Fact]
    public void ARuleWithBothKindsOfCondition_OnlyDependsWhenItsServerLabelHolds()
    {
        var engine = new PolicyEngine([Rule(
            "private-deletes",
            PolicyEffect.Block,
            conditions: [When(PolicyFacts.ServerLabels, ConditionOperator.Equals, "\"private\""), When("path", ConditionOperator.Under, "\"/etc\"")])]);
        var access = new EffectiveAccess(engine);

        Assert.Equal(AccessVerdict.Allow, Decide(access, Grants("payments/*"), labels: ["public"]).Verdict);
        var depends = Decide(access, Grants("payments/*"), labels: ["private"]);
        Assert.Equal(["block by rule 'private-deletes' when path under \"/etc\""], depends.Conditional);
    }
}
