using System.Text.Json;
using Gateway.Core.Policy;

namespace Gateway.Tests.Core.Policy;

/// <summary>Policy conditions on the user an OAuth caller acts for (<c>@user</c>) and their groups (<c>@user.groups</c>).</summary>
public sealed class UserFactsPolicyTests
{
    private static PolicyInput Call(string? user, params string[] groups) =>
        new("oauth-agents", [], "payments", "transfer", AccessClass.Write, null) { User = user, UserGroups = groups };

    [Fact]
    public void ARuleOnGroups_HoldsForMembersOnly_AndNotForAKeyedAgent()
    {
        var rule = new PolicyRule
        {
            Name = "contractors-ask",
            Effect = PolicyEffect.Escalate,
            Conditions = [new(PolicyFacts.UserGroups, ConditionOperator.In, JsonDocument.Parse("""["contractors","interns"]""").RootElement.Clone())],
        };
        var engine = new PolicyEngine([rule]);

        Assert.Equal(PolicyEffect.Escalate, engine.Evaluate(Call("carol", "staff", "contractors")).Effect);
        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call("alice", "staff")).Effect);
        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call(null)).Effect);
    }

    [Fact]
    public void ARuleOnTheUser_NamesOneUser_AndExistsTellsOAuthCallersFromKeys()
    {
        var engine = new PolicyEngine(
        [
            new PolicyRule { Name = "not-mallory", Effect = PolicyEffect.Block, Conditions = [new(PolicyFacts.User, ConditionOperator.Equals, JsonDocument.Parse("\"mallory\"").RootElement.Clone())] },
            new PolicyRule { Name = "people-ask", Effect = PolicyEffect.Escalate, Conditions = [new(PolicyFacts.User, ConditionOperator.Exists, JsonDocument.Parse("true").RootElement.Clone())] },
        ]);

        Assert.Equal(("not-mallory", PolicyEffect.Block), (engine.Evaluate(Call("mallory")).Rule, engine.Evaluate(Call("mallory")).Effect));
        Assert.Equal(PolicyEffect.Escalate, engine.Evaluate(Call("alice")).Effect);
        Assert.Equal(PolicyEffect.Allow, engine.Evaluate(Call(null)).Effect);
    }

    [Theory]
    [InlineData("@user", "equals", true)]
    [InlineData("@user.groups", "in", true)]
    [InlineData("@user.groups", "gt", false)]
    public void TheValidator_AcceptsUserFacts_WithSetOperatorsOnly(string path, string op, bool valid)
    {
        ConditionOperators.TryParse(op, out var parsed);
        var value = op == "gt" ? "1" : op == "in" ? """["staff"]""" : "\"alice\"";
        var rule = new PolicyRule { Name = "r", Effect = PolicyEffect.Block, Conditions = [new(path, parsed, JsonDocument.Parse(value).RootElement.Clone())] };
        Assert.Equal(valid, new PolicyRuleValidator().Validate(rule).IsValid);
    }
}
