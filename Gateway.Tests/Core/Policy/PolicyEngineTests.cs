using System.Text.Json;
using Gateway.Core.Guardrails;
using Gateway.Core.Policy;

namespace Gateway.Tests.Core.Policy;

public sealed class PolicyEngineTests
{
    private static PolicyRule Rule(string name, PolicyEffect effect, string[]? agents = null, string[]? servers = null, string[]? tools = null, AccessClass[]? classes = null, params ArgumentCondition[] conditions) => new()
    {
        Name = name,
        Effect = effect,
        Agents = agents ?? [],
        Servers = servers ?? [],
        Tools = tools ?? [],
        Classes = classes ?? [],
        Conditions = conditions,
        Reason = name + " says so",
    };

    private static ArgumentCondition When(string path, ConditionOperator op, string json) => new(path, op, JsonDocument.Parse(json).RootElement.Clone());

    private static PolicyInput Call(string tool = "pay", AccessClass cls = AccessClass.Write, string args = "{}", string agent = "alice", string server = "payments", params string[] tags) =>
        new(agent, tags, server, tool, cls, JsonDocument.Parse(args).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()));

    [Theory]
    [InlineData(AccessClass.Read, PolicyEffect.Allow)]
    [InlineData(AccessClass.Write, PolicyEffect.Allow)]
    [InlineData(AccessClass.Destructive, PolicyEffect.Escalate)]
    public void NoRuleMatches_TheShippedDefaultForTheClassApplies(AccessClass cls, PolicyEffect expected)
    {
        var decision = PolicyEngine.Empty.Evaluate(Call(cls: cls));
        Assert.Equal(expected, decision.Effect);
        Assert.Null(decision.Rule);
        Assert.Contains(cls.Name(), decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_AreConfigurable()
    {
        var engine = new PolicyEngine([], new PolicyDefaults(Read: PolicyEffect.Allow, Write: PolicyEffect.Escalate, Destructive: PolicyEffect.Block));
        Assert.Equal(PolicyEffect.Escalate, engine.Evaluate(Call(cls: AccessClass.Write)).Effect);
        Assert.Equal(PolicyEffect.Block, engine.Evaluate(Call(cls: AccessClass.Destructive)).Effect);
    }

    public static TheoryData<string, PolicyRule, PolicyInput, bool> Matching => new()
    {
        { "agent by name", Rule("r", PolicyEffect.Block, agents: ["alice"]), Call(agent: "alice"), true },
        { "other agent", Rule("r", PolicyEffect.Block, agents: ["bob"]), Call(agent: "alice"), false },
        { "agent by tag", Rule("r", PolicyEffect.Block, agents: ["tag:finance"]), Call(agent: "alice", tags: "finance"), true },
        { "tag not held", Rule("r", PolicyEffect.Block, agents: ["tag:finance"]), Call(agent: "alice", tags: "ops"), false },
        { "server glob", Rule("r", PolicyEffect.Block, servers: ["pay*"]), Call(server: "payments"), true },
        { "server glob miss", Rule("r", PolicyEffect.Block, servers: ["github"]), Call(server: "payments"), false },
        { "tool glob", Rule("r", PolicyEffect.Block, tools: ["delete_*"]), Call(tool: "delete_repo"), true },
        { "tool glob miss", Rule("r", PolicyEffect.Block, tools: ["delete_*"]), Call(tool: "list_repos"), false },
        { "class", Rule("r", PolicyEffect.Block, classes: [AccessClass.Destructive]), Call(cls: AccessClass.Destructive), true },
        { "class miss", Rule("r", PolicyEffect.Block, classes: [AccessClass.Destructive]), Call(cls: AccessClass.Write), false },
        { "equals string", Rule("r", PolicyEffect.Block, conditions: When("currency", ConditionOperator.Equals, "\"EUR\"")), Call(args: """{"currency":"EUR"}"""), true },
        { "equals number as decimal", Rule("r", PolicyEffect.Block, conditions: When("amount", ConditionOperator.Equals, "10")), Call(args: """{"amount":10.0}"""), true },
        { "equals type mismatch", Rule("r", PolicyEffect.Block, conditions: When("amount", ConditionOperator.Equals, "10")), Call(args: """{"amount":"ten"}"""), false },
        { "not equals", Rule("r", PolicyEffect.Block, conditions: When("currency", ConditionOperator.NotEquals, "\"EUR\"")), Call(args: """{"currency":"USD"}"""), true },
        { "not equals missing", Rule("r", PolicyEffect.Block, conditions: When("currency", ConditionOperator.NotEquals, "\"EUR\"")), Call(args: "{}"), false },
        { "in list", Rule("r", PolicyEffect.Block, conditions: When("env", ConditionOperator.In, """["prod","staging"]""")), Call(args: """{"env":"prod"}"""), true },
        { "not in list", Rule("r", PolicyEffect.Block, conditions: When("env", ConditionOperator.In, """["prod","staging"]""")), Call(args: """{"env":"dev"}"""), false },
        { "regex", Rule("r", PolicyEffect.Block, conditions: When("to", ConditionOperator.Matches, "\"@competitor\\\\.com$\"")), Call(args: """{"to":"ceo@competitor.com"}"""), true },
        { "regex non-string", Rule("r", PolicyEffect.Block, conditions: When("to", ConditionOperator.Matches, "\"x\"")), Call(args: """{"to":5}"""), false },
        { "gt", Rule("r", PolicyEffect.Escalate, conditions: When("amount", ConditionOperator.GreaterThan, "1000")), Call(args: """{"amount":1000.5}"""), true },
        { "gt boundary", Rule("r", PolicyEffect.Escalate, conditions: When("amount", ConditionOperator.GreaterThan, "1000")), Call(args: """{"amount":1000}"""), false },
        { "gte boundary", Rule("r", PolicyEffect.Escalate, conditions: When("amount", ConditionOperator.GreaterOrEqual, "1000")), Call(args: """{"amount":1000}"""), true },
        { "lt", Rule("r", PolicyEffect.Allow, conditions: When("amount", ConditionOperator.LessThan, "10")), Call(args: """{"amount":9}"""), true },
        { "lte", Rule("r", PolicyEffect.Allow, conditions: When("amount", ConditionOperator.LessOrEqual, "10")), Call(args: """{"amount":11}"""), false },
        { "number as string", Rule("r", PolicyEffect.Escalate, conditions: When("amount", ConditionOperator.GreaterThan, "1000")), Call(args: """{"amount":"5000"}"""), true },
        { "missing argument", Rule("r", PolicyEffect.Escalate, conditions: When("amount", ConditionOperator.GreaterThan, "1000")), Call(args: "{}"), false },
        { "nested path", Rule("r", PolicyEffect.Block, conditions: When("$.order.total", ConditionOperator.GreaterThan, "100")), Call(args: """{"order":{"total":250}}"""), true },
        { "array index", Rule("r", PolicyEffect.Block, conditions: When("items[1].sku", ConditionOperator.Equals, "\"B\"")), Call(args: """{"items":[{"sku":"A"},{"sku":"B"}]}"""), true },
        { "array index out of range", Rule("r", PolicyEffect.Block, conditions: When("items[5].sku", ConditionOperator.Equals, "\"B\"")), Call(args: """{"items":[{"sku":"A"}]}"""), false },
        { "under", Rule("r", PolicyEffect.Block, conditions: When("path", ConditionOperator.Under, "\"/etc\"")), Call(args: """{"path":"/etc/passwd"}"""), true },
        { "under via dot-dot", Rule("r", PolicyEffect.Block, conditions: When("path", ConditionOperator.Under, "\"/etc\"")), Call(args: """{"path":"/tmp/../etc//shadow"}"""), true },
        { "under sibling", Rule("r", PolicyEffect.Block, conditions: When("path", ConditionOperator.Under, "\"/etc\"")), Call(args: """{"path":"/etcetera/x"}"""), false },
        { "under relative path blocks", Rule("r", PolicyEffect.Block, conditions: When("path", ConditionOperator.Under, "\"/etc\"")), Call(args: """{"path":"../../etc/passwd"}"""), true },
        { "relative path never allows", Rule("r", PolicyEffect.Allow, conditions: When("path", ConditionOperator.Under, "\"/srv\"")), Call(args: """{"path":"data/x"}"""), false },
        { "exists", Rule("r", PolicyEffect.Block, conditions: When("force", ConditionOperator.Exists, "null")), Call(args: """{"force":false}"""), true },
        { "all conditions must hold", Rule("r", PolicyEffect.Block, conditions: [When("a", ConditionOperator.Equals, "1"), When("b", ConditionOperator.Equals, "2")]), Call(args: """{"a":1,"b":3}"""), false },
    };

    [Theory]
    [MemberData(nameof(Matching))]
    public void Rule_MatchesOnEveryCriterion(string name, PolicyRule rule, PolicyInput input, bool matches)
    {
        var decision = new PolicyEngine([rule], new PolicyDefaults(PolicyEffect.Allow, PolicyEffect.Allow, PolicyEffect.Allow)).Evaluate(input);
        Assert.True(matches == (decision.Rule == "r"), $"{name}: expected match={matches}, got {decision}");
    }

    [Fact]
    public void Precedence_BlockBeatsEscalateBeatsAllow_ThenSpecificity_ThenName()
    {
        var allow = Rule("allow-all", PolicyEffect.Allow);
        var escalate = Rule("escalate-pay", PolicyEffect.Escalate, tools: ["pay"]);
        var block = Rule("block-big", PolicyEffect.Block, conditions: When("amount", ConditionOperator.GreaterThan, "10000"));
        var specificAllow = Rule("allow-alice-pay", PolicyEffect.Allow, agents: ["alice"], tools: ["pay"]);
        var engine = new PolicyEngine([allow, escalate, block, specificAllow]);

        Assert.Equal(("escalate-pay", PolicyEffect.Escalate), Pair(engine.Evaluate(Call(args: """{"amount":5}"""))));
        Assert.Equal(("block-big", PolicyEffect.Block), Pair(engine.Evaluate(Call(args: """{"amount":50000}"""))));
        Assert.Equal(("allow-alice-pay", PolicyEffect.Allow), Pair(new PolicyEngine([allow, specificAllow]).Evaluate(Call())));
        Assert.Equal(("a", PolicyEffect.Block), Pair(new PolicyEngine([Rule("b", PolicyEffect.Block), Rule("a", PolicyEffect.Block)]).Evaluate(Call())));
        Assert.Equal("block-big says so", engine.Evaluate(Call(args: """{"amount":50000}""")).Reason);
    }

    [Fact]
    public void Matching_ListsEveryMatchingRule_ForExplain()
    {
        var engine = new PolicyEngine([Rule("a", PolicyEffect.Allow), Rule("b", PolicyEffect.Block, tools: ["other"]), Rule("c", PolicyEffect.Escalate, servers: ["pay*"])]);
        Assert.Equal(["a", "c"], engine.Matching(Call()).Select(r => r.Name));
    }

    [Fact]
    public void SecretsModes_TheStrictestMatchingRuleSetsIt_ApartFromTheEffect()
    {
        var off = new PolicyRule { Name = "z-off", Secrets = SecretMode.Off };
        var flag = new PolicyRule { Name = "flag-pay", Tools = ["pay"], Secrets = SecretMode.Flag };
        var block = Rule("block-refund", PolicyEffect.Allow, tools: ["refund"]) with { Secrets = SecretMode.Block };
        var engine = new PolicyEngine([off, flag, block]);

        var pay = engine.Evaluate(Call("pay", AccessClass.Destructive));
        Assert.Equal((SecretMode.Flag, "flag-pay"), (pay.Secrets, pay.SecretsRule));

        // A rule that only sets the secrets mode does not decide: the destructive default (escalate) stays.
        Assert.Equal((PolicyEffect.Escalate, (string?)null), (pay.Effect, pay.Rule));

        var refund = engine.Evaluate(Call("refund"));
        Assert.Equal((PolicyEffect.Allow, "block-refund", SecretMode.Block, "block-refund"), (refund.Effect, refund.Rule, refund.Secrets, refund.SecretsRule));
        Assert.Equal((SecretMode.Off, "z-off"), (engine.Evaluate(Call("other")).Secrets, engine.Evaluate(Call("other")).SecretsRule));
        Assert.Null(PolicyEngine.Empty.Evaluate(Call()).Secrets);

        // Equally strict: the more specific, then the name.
        var a = new PolicyRule { Name = "b", Secrets = SecretMode.Redact };
        var b = new PolicyRule { Name = "a", Secrets = SecretMode.Redact };
        var c = new PolicyRule { Name = "c", Tools = ["pay"], Secrets = SecretMode.Redact };
        Assert.Equal("a", new PolicyEngine([a, b]).Evaluate(Call()).SecretsRule);
        Assert.Equal("c", new PolicyEngine([a, b, c]).Evaluate(Call()).SecretsRule);
    }

    [Fact]
    public void SecretsModes_AnUndecidableCondition_AppliesAGuardingMode_NeverARelaxingOne()
    {
        // "amount gt 5" cannot be decided when amount is a string.
        var relax = new PolicyRule { Name = "relax", Secrets = SecretMode.Off, Conditions = [When("amount", ConditionOperator.GreaterThan, "5")] };
        var guard = new PolicyRule { Name = "guard", Secrets = SecretMode.Redact, Conditions = [When("amount", ConditionOperator.GreaterThan, "5")] };
        var undecidable = Call(args: """{"amount":"many"}""");

        Assert.Null(new PolicyEngine([relax]).Evaluate(undecidable).Secrets);
        Assert.Equal(SecretMode.Redact, new PolicyEngine([guard]).Evaluate(undecidable).Secrets);
        Assert.Equal(SecretMode.Off, new PolicyEngine([relax]).Evaluate(Call(args: """{"amount":9}""")).Secrets);
    }

    private static (string?, PolicyEffect) Pair(PolicyDecision d) => (d.Rule, d.Effect);
}
