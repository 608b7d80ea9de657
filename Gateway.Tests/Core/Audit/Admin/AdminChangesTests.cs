using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Gateway.Core.Agents;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Limits;
using Gateway.Core.Policy;
using Gateway.Core.Servers;
using Gateway.Core.VirtualServers;

namespace Gateway.Tests.Core.Audit.Admin;

/// <summary>
/// The states provisioning records are serialized from compile-time metadata: an entry must read exactly as the
/// reflection-built one did (names, enum spellings, computed properties), or old and new entries would disagree.
/// </summary>
public sealed class AdminChangesTests
{
    private static readonly JsonSerializerOptions Reflection = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    public static TheoryData<object> States() => new()
    {
        new ServerDefinition
        {
            Name = "files",
            Transport = ServerTransport.Http,
            Url = "https://files.example/mcp",
            Args = ["--read-only"],
            CredentialMode = CredentialMode.PerUser,
            ToolPrefix = "f__",
            Enabled = false,
            ManagedByConfiguration = true,
            ConnectTimeout = TimeSpan.FromSeconds(3),
            MaxResultBytes = 65_536,
        },
        new AgentRecord(7, "ci-bot", true, true, ["files/*"], [new AgentKeyInfo(3, "gw_ab…yz", DateTimeOffset.UnixEpoch, null)], DateTimeOffset.UnixEpoch)
        {
            Tags = ["ci"],
            Owner = "alice",
            Limits = new AgentLimits(RequestsPerMinute: 60),
            Discovery = ToolDiscovery.Search,
        },
        new PolicyRule
        {
            Name = "no-deletes",
            Effect = PolicyEffect.Escalate,
            Tools = ["delete_*"],
            Classes = [AccessClass.Destructive],
            Conditions = [new ArgumentCondition("path", ConditionOperator.Matches, JsonDocument.Parse("\"^/etc\"").RootElement)],
            Reason = "needs a human",
        },
    };

    [Theory]
    [MemberData(nameof(States))]
    public void AnEntry_RecordsTheStateAsReflectionSerializesIt(object state)
    {
        // The same state serialized by reflection, passed as a JSON value, goes through the same redaction.
        var byReflection = JsonSerializer.SerializeToElement(state, state.GetType(), Reflection);
        var expected = AdminChanges.Record(DateTimeOffset.UnixEpoch, "configuration", "thing", "name", "update", byReflection, null);

        var recorded = AdminChanges.Record(DateTimeOffset.UnixEpoch, "configuration", "thing", "name", "update", state, null);

        Assert.Equal(expected.ArgumentsRedacted, recorded.ArgumentsRedacted);
        Assert.Equal(expected.ArgumentsSha256, recorded.ArgumentsSha256);
        Assert.Contains("\"before\":{", recorded.ArgumentsRedacted, StringComparison.Ordinal);
    }
}
