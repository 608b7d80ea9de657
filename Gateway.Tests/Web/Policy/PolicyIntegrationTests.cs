using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Policy;

/// <summary>Grants by class, and policy decided on every call through the real endpoint, against a real upstream.</summary>
public sealed class PolicyIntegrationTests : IAsyncLifetime
{
    private const string Key = "policy-agent-key-0123456";
    private readonly string _name = "po" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private string _url = string.Empty;

    public async Task InitializeAsync() => (_upstream, _url) = await StartHttpAsync(_name);

    public async Task DisposeAsync() => await _upstream!.DisposeAsync();

    private Task<GatewayHost> StartAsync(Dictionary<string, string?> extra, params string[] grants) => StartAsync(DatabaseProvider.Sqlite, extra, grants);

    private async Task<GatewayHost> StartAsync(DatabaseProvider provider, Dictionary<string, string?> extra, params string[] grants)
    {
        var gateway = await GatewayHost.StartAsync(provider, Merge(Http(_name, _url), Agent("agent", Key, grants.Length > 0 ? grants : [$"{_name}/*"]), extra));
        await gateway.WaitForToolAsync($"{_name}__add");
        return gateway;
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    [Fact]
    public async Task BlockedCall_IsAToolErrorNamingTheRule_AndNeverReachesTheUpstream()
    {
        await using var gateway = await StartAsync(new()
        {
            ["Gateway:Policies:no-secrets:Effect"] = "block",
            ["Gateway:Policies:no-secrets:Tools:0"] = "echo",
            ["Gateway:Policies:no-secrets:Conditions:0:Path"] = "message",
            ["Gateway:Policies:no-secrets:Conditions:0:Op"] = "matches",
            ["Gateway:Policies:no-secrets:Conditions:0:Value"] = "(?i)password",
            ["Gateway:Policies:no-secrets:Reason"] = "no passwords in messages",
        });
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");

        var blocked = await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "my PASSWORD is 123" }, cancellationToken: TestContext.Timeout);
        Assert.True(blocked.IsError);
        Assert.Equal("Blocked by policy rule 'no-secrets': no passwords in messages", Text(blocked));
        Assert.Equal(before, CallLog.Count(_name, "echo"));

        var allowed = await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "hello" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("echo: hello", Text(allowed));
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var rows = await db.AuditEntries.Where(a => a.Kind != Gateway.Core.Audit.AuditKinds.ToolCallStarted && a.Kind != Gateway.Core.Audit.AuditKinds.AdminChange).OrderBy(a => a.Sequence).Select(a => new { a.Decision, a.Rule, a.Outcome }).ToListAsync(TestContext.Timeout);
        Assert.Equal(("block", "no-secrets", "denied"), (rows[0].Decision, rows[0].Rule, rows[0].Outcome));
        Assert.Equal(("allow", (string?)null, "ok"), (rows[1].Decision, rows[1].Rule, rows[1].Outcome));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task GrantsByClass_HideWhatIsAboveTheGrant_AndAClassOverrideAppliesLive(DatabaseProvider provider)
    {
        await using var gateway = await StartAsync(provider, [], $"{_name}/*:read");
        await using var client = await gateway.ConnectAsync(Key);

        // Only 'add' carries readOnlyHint; everything else has no hints and is 'write'.
        Assert.Equal([$"{_name}__add"], (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));

        using var set = await gateway.Admin.PutAsJsonAsync($"/api/v1/servers/{_name}/tools/echo/class", new { @class = "read" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        Assert.Equal([$"{_name}__add", $"{_name}__echo"], (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).Order());
        Assert.Equal("echo: hi", Text(await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout)));

        using var destructive = await gateway.Admin.PutAsJsonAsync($"/api/v1/servers/{_name}/tools/add/class", new { @class = "destructive" }, TestContext.Timeout);
        Assert.Equal([$"{_name}__echo"], (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));
        var hidden = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => client.CallToolAsync($"{_name}__add", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("Unknown tool", hidden.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DestructiveCall_IsEscalatedByDefault_AndHeldForApproval()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Approvals:HoldFor"] = "00:00:01" }, $"{_name}/*:destructive");
        using var set = await gateway.Admin.PutAsJsonAsync($"/api/v1/servers/{_name}/tools/echo/class", new { @class = "destructive" }, TestContext.Timeout);
        await using var client = await gateway.ConnectAsync(Key);
        var before = CallLog.Count(_name, "echo");

        var result = await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "rm -rf" }, cancellationToken: TestContext.Timeout);
        Assert.True(result.IsError);
        Assert.StartsWith("Approval pending, id apr_", Text(result), StringComparison.Ordinal);
        Assert.Equal(before, CallLog.Count(_name, "echo"));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task RulesChangedThroughTheApi_ApplyToTheNextCall_OnAnOpenSession(DatabaseProvider provider)
    {
        await using var gateway = await StartAsync(provider, []);
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");
        var args = new Dictionary<string, object?> { ["a"] = 600, ["b"] = 600 };
        Assert.Equal(1200, (await client.CallToolAsync($"{_name}__add", args, cancellationToken: TestContext.Timeout)).StructuredContent!.Value.GetProperty("value").GetInt32());

        using var put = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/cap-sums", new
        {
            effect = "block",
            tools = new[] { "add" },
            conditions = new[] { new { path = "a", op = ">", value = 500 } },
            reason = "too large",
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var blocked = await client.CallToolAsync($"{_name}__add", args, cancellationToken: TestContext.Timeout);
        Assert.Equal("Blocked by policy rule 'cap-sums': too large", Text(blocked));

        using var delete = await gateway.Admin.DeleteAsync("/api/v1/policies/cap-sums", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.NotEqual(true, (await client.CallToolAsync($"{_name}__add", args, cancellationToken: TestContext.Timeout)).IsError);
    }

    [Fact]
    public async Task GrantChange_AppliesToTheNextCall_AndTellsTheOpenSession()
    {
        await using var gateway = await GatewayHost.StartAsync(Http(_name, _url));
        await gateway.WaitForToolAsync($"{_name}__echo");
        using var create = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "mover", grants = new[] { $"{_name}/*" } }, TestContext.Timeout);
        var key = (await create.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("apiKey").GetString()!;
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = await gateway.ConnectAsync(key, options: new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                {
                    changed.TrySetResult();
                    return ValueTask.CompletedTask;
                })],
            },
        });
        Assert.Equal("echo: a", Text(await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "a" }, cancellationToken: TestContext.Timeout)));

        using var narrow = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/mover", new { grants = new[] { $"{_name}/add:read" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, narrow.StatusCode);

        await changed.Task.WaitAsync(TestContext.Timeout);
        Assert.Equal([$"{_name}__add"], (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "b" }, cancellationToken: TestContext.Timeout).AsTask());
    }

    [Fact]
    public async Task RuleNames_CanBeHiddenFromAgents()
    {
        await using var gateway = await StartAsync(new()
        {
            ["Gateway:Policy:ShowRuleNames"] = "false",
            ["Gateway:Policies:internal-rule-name:Effect"] = "block",
            ["Gateway:Policies:internal-rule-name:Tools:0"] = "echo",
        });
        await using var client = await gateway.ConnectAsync(Key);
        var result = await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("Blocked by policy.", Text(result));
    }

    [Fact]
    public async Task InvalidRule_IsRefusedWithEveryError_AndNothingChanges()
    {
        await using var gateway = await StartAsync([]);
        using var put = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/broken", new
        {
            effect = "perhaps",
            classes = new[] { "huge" },
            conditions = new[] { new { path = "a", op = "approximately", value = 1 } },
        }, TestContext.Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var errors = (await put.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("effect", out _));
        Assert.True(errors.TryGetProperty("classes", out _));
        Assert.True(errors.TryGetProperty("conditions[0].op", out _));
        Assert.Equal("[]", (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/policies", TestContext.Timeout)).GetRawText());
    }

    [Theory]
    [InlineData("servers", """{"effect":"block","servers":["files",null]}""", "servers[1]")]
    [InlineData("conditions", """{"effect":"block","conditions":[null]}""", "conditions[0]")]
    [InlineData("agents", """{"effect":"block","agents":[null],"tools":[null,"x"]}""", "tools[0]")]
    public async Task ANullInARulesList_IsAFieldError_NotAServerError(string _, string body, string field)
    {
        await using var gateway = await StartAsync([]);
        using var put = await gateway.Admin.PutAsync("/api/v1/policies/nulls", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), TestContext.Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var errors = (await put.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var message), await put.Content.ReadAsStringAsync(TestContext.Timeout));
        Assert.Contains("must not be null", message.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("[]", (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/policies", TestContext.Timeout)).GetRawText());
    }

    [Fact]
    public async Task Explain_SaysWhatWouldHappen_WithoutCallingAnything()
    {
        await using var gateway = await StartAsync(new()
        {
            ["Gateway:Policies:big-sums:Effect"] = "escalate",
            ["Gateway:Policies:big-sums:Tools:0"] = "add",
            ["Gateway:Policies:big-sums:Conditions:0:Path"] = "a",
            ["Gateway:Policies:big-sums:Conditions:0:Op"] = "gt",
            ["Gateway:Policies:big-sums:Conditions:0:Value"] = "1000",
        });
        var before = CallLog.Count(_name, "add");

        using var small = await gateway.Admin.PostAsJsonAsync("/api/v1/policies/explain", new { agent = "agent", tool = $"{_name}__add", arguments = new { a = 5, b = 1 } }, TestContext.Timeout);
        var smallAnswer = await small.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.Equal("allow", smallAnswer.GetProperty("effect").GetString());
        Assert.Equal("read", smallAnswer.GetProperty("class").GetString());

        using var big = await gateway.Admin.PostAsJsonAsync("/api/v1/policies/explain", new { agent = "agent", tool = $"{_name}__add", arguments = new { a = 5000, b = 1 } }, TestContext.Timeout);
        var bigAnswer = await big.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.Equal(("escalate", "big-sums"), (bigAnswer.GetProperty("effect").GetString(), bigAnswer.GetProperty("rule").GetString()));
        Assert.Equal(["big-sums"], bigAnswer.GetProperty("matchingRules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(before, CallLog.Count(_name, "add"));

        using var unknown = await gateway.Admin.PostAsJsonAsync("/api/v1/policies/explain", new { agent = "nobody", tool = "nope" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);

        // Arguments naming a key twice: a 400 naming it, not a 500 (System.Text.Json keeps both).
        using var twice = await gateway.Admin.PostAsync(
            "/api/v1/policies/explain",
            new StringContent("""{"agent":"agent","tool":"TOOL","arguments":{"a":5,"a":5000}}""".Replace("TOOL", $"{_name}__add", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json"),
            TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("Arguments name 'a' twice.", await twice.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
    }
}
