using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Catalog;
using Gateway.Core.Grants;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;

namespace Gateway.Tests.Core.Policy;

/// <summary>Invariants of the policy engine and the grant check, over generated rules, grants, tools and calls.</summary>
public sealed class PolicyPropertyTests
{
    private static readonly string[] Servers = ["github", "payments", "files"];
    private static readonly string[] Tools = ["list_issues", "delete_repo", "pay", "read_file"];
    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(500);

    private static readonly Gen<PolicyRule> RuleGen =
        from effect in Gen.Elements(PolicyEffect.Allow, PolicyEffect.Escalate, PolicyEffect.Block)
        from agents in Gen.SubListOf("alice", "bob", "tag:finance")
        from servers in Gen.SubListOf("*", "pay*", "github")
        from tools in Gen.SubListOf("*", "delete_*", "pay", "list_*")
        from classes in Gen.SubListOf(AccessClass.Read, AccessClass.Write, AccessClass.Destructive)
        from threshold in Gen.Elements<int?>(null, 0, 100, 1000)
        from id in Gen.Choose(0, 1_000_000)
        select new PolicyRule
        {
            Name = "r" + id,
            Effect = effect,
            Agents = [.. agents],
            Servers = [.. servers],
            Tools = [.. tools],
            Classes = [.. classes],
            Conditions = threshold is { } t ? [new ArgumentCondition("amount", ConditionOperator.GreaterThan, JsonSerializer.SerializeToElement(t))] : [],
        };

    private static readonly Gen<PolicyInput> InputGen =
        from agent in Gen.Elements("alice", "bob", "carol")
        from tags in Gen.SubListOf("finance", "ops")
        from server in Gen.Elements(Servers)
        from tool in Gen.Elements(Tools)
        from cls in Gen.Elements(AccessClass.Read, AccessClass.Write, AccessClass.Destructive)
        from amount in Gen.Elements<int?>(null, 50, 500, 5000)
        select new PolicyInput(agent, [.. tags], server, tool, cls,
            amount is { } a ? new Dictionary<string, JsonElement> { ["amount"] = JsonSerializer.SerializeToElement(a) } : null);

    [Fact]
    public void AddingABlockRule_NeverLowersTheEffect()
    {
        var gen = from rules in Gen.ListOf(RuleGen) from block in RuleGen from input in InputGen select (Rules: rules.ToList(), Block: block with { Effect = PolicyEffect.Block, Name = "added-block" }, Input: input);
        Prop.ForAll(gen.ToArbitrary(), c =>
            new PolicyEngine([.. c.Rules, c.Block]).Evaluate(c.Input).Effect >= new PolicyEngine(c.Rules).Evaluate(c.Input).Effect)
            .Check(Config);
    }

    [Fact]
    public void Decision_DoesNotDependOnRuleOrder()
    {
        var gen = from rules in Gen.ListOf(RuleGen) from seed in Gen.Choose(0, int.MaxValue) from input in InputGen select (Rules: rules.DistinctBy(r => r.Name).ToList(), Seed: seed, Input: input);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var shuffled = c.Rules.OrderBy(_ => new Random(c.Seed).Next()).Reverse().ToList();
            return new PolicyEngine(c.Rules).Evaluate(c.Input) == new PolicyEngine(shuffled).Evaluate(c.Input);
        }).Check(Config);
    }

    [Fact]
    public void Agent_NeverSeesAToolItCannotCall_NorCallsOneItCannotSee()
    {
        var grantGen = from server in Gen.Elements("github", "payments", "*")
                       from tool in Gen.Elements("*", "list_*", "pay", "delete_*")
                       from cls in Gen.Elements("read", "write", "destructive")
                       from expired in Gen.Elements(false, false, true)
                       select $"{server}/{tool}:{cls}" + (expired ? "@2020-01-01T00:00:00Z" : string.Empty);
        var classGen = Gen.Elements(AccessClass.Read, AccessClass.Write, AccessClass.Destructive);
        var gen = from grants in Gen.ListOf(grantGen) from classes in Gen.ArrayOf(classGen, Servers.Length * Tools.Length) select (Grants: grants.ToList(), Classes: classes);
        var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var index = 0;
            var catalog = NamespacedCatalog<string>.Build(Servers.Select(s => new ServerItems<string>(
                s, s + "__", [.. Tools.Select(t => (t, t))], _ => c.Classes[index++ % c.Classes.Length])));
            var agent = new AgentIdentity(1, "alice", GrantSet.Parse(c.Grants, new List<string>()));
            var visible = catalog.VisibleTo(agent.Grants, now).Select(e => e.ExposedName).ToHashSet();
            var pipeline = new ToolCallPipeline(new NullSink(), new StaticPolicySource(new PolicyEngine([], new PolicyDefaults(PolicyEffect.Allow, PolicyEffect.Allow, PolicyEffect.Allow))), new RefusingApprovalGate(), new PolicyMessages(), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now));
            foreach (var entry in catalog.Entries)
            {
                var outcome = pipeline.RunAsync(new ToolCall(agent, entry.ExposedName, null), new Pipeline.TestForwarder(catalog), CancellationToken.None).AsTask().GetAwaiter().GetResult();
                if (visible.Contains(entry.ExposedName) == (outcome.Refusal == Refusal.UnknownTool))
                {
                    return false;
                }
            }

            return true;
        }).Check(Config);
    }

    private sealed class NullSink : IAuditSink
    {
        public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
