using System.Text.Json;
using Gateway.Core.Guardrails;
using Gateway.Core.Policy;

namespace Gateway.Tests.Core.Policy;

public sealed class PolicyRuleDocumentTests
{
    [Fact]
    public void Accepts_AFullRule_AndRoundTrips()
    {
        var document = JsonSerializer.Deserialize<PolicyRuleDocument>("""
            {"name":"big-payments","effect":"escalate","agents":["tag:finance"],"servers":["payments"],"tools":["pay*"],
             "classes":["write","destructive"],"conditions":[{"path":"amount","op":">","value":1000}],"reason":"large amount"}
            """, JsonSerializerOptions.Web)!;
        var errors = new List<string>();
        var rule = document.ToRule(errors);

        Assert.Empty(errors);
        Assert.NotNull(rule);
        Assert.Equal(PolicyEffect.Escalate, rule.Effect);
        Assert.Equal(ConditionOperator.GreaterThan, Assert.Single(rule.Conditions).Operator);
        var again = PolicyRuleDocument.From(rule).ToRule(errors);
        Assert.Empty(errors);
        Assert.Equal(JsonSerializer.Serialize(PolicyRuleDocument.From(rule)), JsonSerializer.Serialize(PolicyRuleDocument.From(again!)));
    }

    [Fact]
    public void Rejects_WithEveryErrorListed()
    {
        var document = JsonSerializer.Deserialize<PolicyRuleDocument>("""
            {"name":"bad name","effect":"maybe","classes":["huge"],"tools":["has space"],
             "conditions":[{"path":"","op":"gt","value":"x"},{"path":"a","op":"approximately","value":1},{"path":"a","op":"matches","value":"(unclosed"},
                           {"path":"p","op":"under","value":"relative"},{"path":"a","op":"in","value":3}]}
            """, JsonSerializerOptions.Web)!;
        var errors = new List<string>();

        Assert.Null(document.ToRule(errors));
        Assert.Contains(errors, e => e.StartsWith("effect:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("classes:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("conditions[1].op:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("name:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("tools", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("regular expression", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("absolute path", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("array", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("number", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("github/list_*:read", "github", "list_*", AccessClass.Read, null)]
    [InlineData("files/*", "files", "*", AccessClass.Write, null)]
    [InlineData("pay/refund:destructive@2027-01-01T00:00:00Z", "pay", "refund", AccessClass.Destructive, "2027-01-01T00:00:00Z")]
    public void Grant_ParsesClassAndExpiry(string text, string server, string tool, AccessClass max, string? expires)
    {
        Assert.True(Gateway.Core.Grants.ToolGrant.TryParse(text, out var grant));
        Assert.Equal((server, tool, max), (grant.Server.Pattern, grant.Tool.Pattern, grant.MaxClass));
        Assert.Equal(expires is null ? null : DateTimeOffset.Parse(expires, System.Globalization.CultureInfo.InvariantCulture), grant.Expires);
    }

    [Fact]
    public void Grant_CoversLowerClasses_AndExpires()
    {
        Assert.True(Gateway.Core.Grants.ToolGrant.TryParse("pay/*:write@2027-01-01T00:00:00Z", out var grant));
        var before = new DateTimeOffset(2026, 12, 31, 23, 59, 59, TimeSpan.Zero);
        Assert.True(grant.Allows("pay", "refund", AccessClass.Read, before));
        Assert.True(grant.Allows("pay", "refund", AccessClass.Write, before));
        Assert.False(grant.Allows("pay", "refund", AccessClass.Destructive, before));
        Assert.False(grant.Allows("pay", "refund", AccessClass.Read, before.AddSeconds(1)));
        Assert.False(Gateway.Core.Grants.ToolGrant.TryParse("pay/*:admin", out _));
        Assert.False(Gateway.Core.Grants.ToolGrant.TryParse("pay/*@yesterday", out _));
    }

    [Theory]
    [InlineData(true, null, AccessClass.Read)]
    [InlineData(true, true, AccessClass.Read)]
    [InlineData(false, true, AccessClass.Destructive)]
    [InlineData(null, true, AccessClass.Destructive)]
    [InlineData(false, false, AccessClass.Write)]
    [InlineData(null, null, AccessClass.Write)]
    public void Classifier_UsesHints_NoHintsMeansWrite(bool? readOnly, bool? destructive, AccessClass expected) =>
        Assert.Equal(expected, ToolClassifier.FromHints(readOnly, destructive));

    [Theory]
    [InlineData("""{"name":"keys","tools":["get_key"],"secrets":"flag"}""", null, SecretMode.Flag)]
    [InlineData("""{"name":"keys","effect":"allow","secrets":" BLOCK "}""", PolicyEffect.Allow, SecretMode.Block)]
    [InlineData("""{"name":"keys","effect":"escalate"}""", PolicyEffect.Escalate, null)]
    public void Secrets_IsOptional_AndAloneNeedsNoEffect(string json, PolicyEffect? effect, SecretMode? secrets)
    {
        var errors = new List<string>();
        var rule = JsonSerializer.Deserialize<PolicyRuleDocument>(json, JsonSerializerOptions.Web)!.ToRule(errors);

        Assert.Empty(errors);
        Assert.Equal((effect, secrets), (rule!.Effect, rule.Secrets));
        var again = PolicyRuleDocument.From(rule).ToRule(errors)!;
        Assert.Equal((effect, secrets), (again.Effect, again.Secrets));
    }

    [Theory]
    [InlineData("""{"name":"keys","secrets":"hide"}""", "secrets: 'hide' is not one of off, flag, redact, block.")]
    [InlineData("""{"name":"keys","tools":["x"]}""", "effect: '' is not allow, escalate or block.")]
    [InlineData("""{"name":"keys","effect":"maybe","secrets":"off"}""", "effect: 'maybe' is not allow, escalate or block.")]
    public void Secrets_AnUnknownMode_OrNeitherEffectNorMode_IsAFieldError(string json, string error)
    {
        var errors = new List<string>();
        Assert.Null(JsonSerializer.Deserialize<PolicyRuleDocument>(json, JsonSerializerOptions.Web)!.ToRule(errors));
        Assert.Contains(error, errors);
    }
}
