using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Limits;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Limits;

/// <summary>
/// Per-tool limits through <c>/api/v1/limits/tools</c> on a real gateway (SQLite file, HTTP upstream): validated by
/// field and bounded, configuration's read-only (409), audited, and in force from the next call.
/// </summary>
public sealed class ToolLimitsApiTests
{
    private const string Key = "limited-key-0123456789";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ARuleCreatedThroughTheApi_RefusesTheNextCallOverIt_AndDeletingItLiftsIt(DatabaseProvider provider)
    {
        var name = "tl" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(Http(name, url), Agent("limited", Key, $"{name}/*")));
        await gateway.WaitForToolAsync($"{name}__echo");
        await using var client = await gateway.ConnectAsync(Key);
        Assert.NotEqual(true, (await Echo(client, name, "before the rule")).IsError);

        using (var created = await gateway.Admin.PutAsJsonAsync("/api/v1/limits/tools/one-echo-a-day", new { match = $"{name}/ech*", dailyQuota = 1 }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            var rule = await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.Equal($"{name}/ech*", rule.GetProperty("match").GetString());
            Assert.False(rule.GetProperty("managedByConfiguration").GetBoolean());
        }

        // The rule counts from its creation: one call passes, the next is refused, naming the rule.
        var before = CallLog.Count(name, "echo");
        Assert.NotEqual(true, (await Echo(client, name, "first under the rule")).IsError);
        var error = await LimitRefusals.ErrorOfAsync(() => Echo(client, name, "over"));
        Assert.Equal("dailyQuota", error.GetProperty("data").GetProperty("limit").GetString());
        Assert.Contains($"may start 1 calls of tools matching '{name}/ech*' (limit 'one-echo-a-day') per UTC day", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before + 1, CallLog.Count(name, "echo"));

        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        Assert.Contains(trail, r => r.Kind == AuditKinds.AdminChange && r.Tool == "tool_limit/one-echo-a-day" && r.Decision == "create" && r.Actor == "admin-api");
        Assert.Contains(trail, r => r.Actor == "limited" && r.Outcome == AuditOutcomes.Denied && r.Error!.Contains("one-echo-a-day", StringComparison.Ordinal));

        using (var deleted = await gateway.Admin.DeleteAsync("/api/v1/limits/tools/one-echo-a-day", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.NotEqual(true, (await Echo(client, name, "rule deleted")).IsError);
        Assert.Contains((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Tool == "tool_limit/one-echo-a-day" && r.Decision == "delete");
    }

    [Fact]
    public async Task TheApi_ValidatesByField_AtTheBounds_RefusesConfigurationsRules_AndCountsRules()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:Limits:Tools:from-config:Match"] = "github/create_*",
            ["Gateway:Limits:Tools:from-config:RequestsPerMinute"] = "5",
        });

        var listed = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/limits/tools", TestContext.Timeout);
        var configured = Assert.Single(listed.EnumerateArray());
        Assert.Equal("from-config", configured.GetProperty("name").GetString());
        Assert.True(configured.GetProperty("managedByConfiguration").GetBoolean());
        Assert.Equal(5, configured.GetProperty("requestsPerMinute").GetInt32());

        // Configuration's rule: read-only, whatever the body.
        using (var put = await gateway.Admin.PutAsJsonAsync("/api/v1/limits/tools/from-config", new { match = "a/b" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
            Assert.Contains("managed by configuration", await put.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        using (var delete = await gateway.Admin.DeleteAsync("/api/v1/limits/tools/from-config", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        }

        using (var missing = await gateway.Admin.DeleteAsync("/api/v1/limits/tools/no-such-rule", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // Every problem at once, by field; values one past each bound.
        var glob = new string('g', ToolLimitRule.MaxGlobLength);
        var invalid = await Errors(gateway, new string('n', 65), new { match = $"{glob}x/tool", requestsPerMinute = -1, maxConcurrent = AgentLimitsValidator.Max + 1, dailyQuota = 0 });
        Assert.Equal(["match", "maxConcurrent", "name", "requestsPerMinute"], invalid.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["match"], (await Errors(gateway, "slashes", new { match = "a/b/c" })).Keys);
        Assert.Equal(["match"], (await Errors(gateway, "control", new { match = "a/b\u0007" })).Keys);

        // At each bound: accepted.
        using (var atBounds = await gateway.Admin.PutAsJsonAsync($"/api/v1/limits/tools/{new string('n', 64)}", new { match = $"{glob}/{glob}", requestsPerMinute = AgentLimitsValidator.Max, maxConcurrent = 0, dailyQuota = 1 }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, atBounds.StatusCode);
        }

        // 200 rules in all (configuration's one, the one above, 198 more); the 201st is refused, replacing one is not.
        for (var i = 0; i < ToolLimitRule.MaxRules - 2; i++)
        {
            using var created = await gateway.Admin.PutAsJsonAsync($"/api/v1/limits/tools/r{i}", new { match = $"s/t{i}", dailyQuota = 10 }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        Assert.Contains("delete one first", Assert.Single((await Errors(gateway, "one-too-many", new { match = "s/x", dailyQuota = 1 }))["name"]), StringComparison.Ordinal);
        using (var replaced = await gateway.Admin.PutAsJsonAsync("/api/v1/limits/tools/r0", new { match = "s/t0", dailyQuota = 11 }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        }

        Assert.Equal(ToolLimitRule.MaxRules, (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/limits/tools", TestContext.Timeout)).GetArrayLength());
    }

    private static Task<ModelContextProtocol.Protocol.CallToolResult> Echo(McpClient client, string server, string message) =>
        client.CallToolAsync($"{server}__echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: TestContext.Timeout).AsTask();

    private static async Task<Dictionary<string, string[]>> Errors(GatewayHost gateway, string name, object body)
    {
        using var response = await gateway.Admin.PutAsJsonAsync($"/api/v1/limits/tools/{name}", body, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }
}
