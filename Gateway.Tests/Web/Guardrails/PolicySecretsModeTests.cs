using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Guardrails;

/// <summary>
/// A policy rule's <c>secrets</c> mode, end to end: a real gateway, the test upstream's hostile tools handing back a
/// token, rules from configuration and from the API, and the audit entries in the real SQLite file.
/// </summary>
public sealed class PolicySecretsModeTests
{
    private const string Key = "policy-secrets-agent-key-0123";
    private const string Aws = "AKIAIOSFODNN7EXAMPLE";

    private static Dictionary<string, string?> Hostile(string name, string? secrets = null)
    {
        var s = Stdio(name);
        s[$"Gateway:Servers:{name}:Args:4"] = "--hostile";
        s[$"Gateway:Servers:{name}:Guard:Secrets"] = secrets;
        return s;
    }

    private static Task<CallToolResult> Reflect(McpClient client, string tool, string text) =>
        client.CallToolAsync(tool, new Dictionary<string, object?> { ["text"] = text }, cancellationToken: TestContext.Timeout).AsTask();

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    private static async Task<List<Gateway.Data.Entities.AuditEntryEntity>> CallRowsAsync(GatewayHost gateway)
    {
        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return await db.AuditEntries.Where(a => a.Kind == AuditKinds.ToolCall).OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);
    }

    [Fact]
    public async Task ARulesSecretsMode_ReplacesTheServers_ForTheCallsItMatches_AndTheAuditSaysWhichApplied()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Hostile("leaky"),
            Agent("agent", Key, "leaky/*"),
            new Dictionary<string, string?>
            {
                // Stricter than the server (redact): the result is withheld.
                ["Gateway:Policies:no-tokens-everywhere:Tools:0"] = "reflect_everywhere",
                ["Gateway:Policies:no-tokens-everywhere:Secrets"] = "block",

                // Looser: a tool whose job is to hand out keys. No effect: it only sets the guard.
                ["Gateway:Policies:keys-are-its-job:Tools:0"] = "reflect_as_key",
                ["Gateway:Policies:keys-are-its-job:Secrets"] = "flag",

                // Two rules match reflect: the strictest wins (redact over off), whatever their order or names.
                ["Gateway:Policies:a-off:Tools:0"] = "reflect",
                ["Gateway:Policies:a-off:Secrets"] = "off",
                ["Gateway:Policies:b-redact:Effect"] = "allow",
                ["Gateway:Policies:b-redact:Tools:0"] = "reflect",
                ["Gateway:Policies:b-redact:Secrets"] = "redact",
            }));
        await gateway.WaitForToolAsync("leaky__reflect");
        await using var client = await gateway.ConnectAsync(Key);

        var withheld = await Reflect(client, "leaky__reflect_everywhere", $"key {Aws}");
        Assert.True(withheld.IsError);
        Assert.Equal("The gateway withheld the result of this call: it contained a secret (aws-access-key) and the policy blocks results with secrets for this call.", Text(withheld));

        var flagged = await Reflect(client, "leaky__reflect_as_key", $"key {Aws}");
        Assert.Equal($$"""{"key {{Aws}}":"v"}""", flagged.StructuredContent!.Value.GetRawText());

        Assert.Equal("[REDACTED:aws-access-key]", Text(await Reflect(client, "leaky__reflect", Aws)));

        // A clean call matched by a rule still records the mode that applied.
        Assert.Equal("first: clean", Text(await Reflect(client, "leaky__reflect_everywhere", "clean")));

        var rows = await CallRowsAsync(gateway);
        Assert.Equal((AuditOutcomes.Withheld, "allow"), (rows[0].Outcome, rows[0].Decision));
        Assert.StartsWith("""[{"at":"rule:no-tokens-everywhere","kind":"secrets-mode.block"},""", rows[0].Findings, StringComparison.Ordinal);
        Assert.Equal(
            """[{"at":"rule:keys-are-its-job","kind":"secrets-mode.flag"},{"at":"arguments.text","kind":"secret.aws-access-key"},{"at":"structuredContent{#0}.key@4","kind":"secret.aws-access-key"}]""",
            rows[1].Findings);
        Assert.Equal(
            """[{"at":"rule:b-redact","kind":"secrets-mode.redact"},{"at":"arguments.text","kind":"secret.aws-access-key"},{"at":"content[0].text@0","kind":"secret.aws-access-key"}]""",
            rows[2].Findings);
        Assert.Equal("""[{"at":"rule:no-tokens-everywhere","kind":"secrets-mode.block"}]""", rows[3].Findings);
        Assert.Equal(AuditOutcomes.Ok, rows[3].Outcome);

        // A secrets-only rule decides nothing else: the decisions are the defaults' (no rule named), or b-redact's.
        Assert.Equal([null, null, "b-redact", null], rows.Select(r => r.Rule));
        var verification = AuditSinkChainTests.Verify(await gateway.AuditTrailAsync());
        Assert.True(verification.Intact, verification.Problem);
    }

    [Fact]
    public async Task ARuleFromTheApi_CanRelaxABlockingServer_IsValidated_ListedAndExplained()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Hostile("strict", secrets: "block"), Agent("agent", Key, "strict/*")));
        await gateway.WaitForToolAsync("strict__reflect");
        await using var client = await gateway.ConnectAsync(Key);
        Assert.True((await Reflect(client, "strict__reflect", Aws)).IsError);

        using var invalid = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/broken", new { secrets = "hide", tools = new[] { "reflect" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
        Assert.Equal("'hide' is not one of off, flag, redact, block.", FirstError(errors, "secrets"));

        using var neither = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/broken", new { tools = new[] { "reflect" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, neither.StatusCode);
        Assert.True((await neither.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors").TryGetProperty("effect", out _));

        using var put = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/redact-reflect", new { tools = new[] { "reflect" }, secrets = "redact" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("[REDACTED:aws-access-key]", Text(await Reflect(client, "strict__reflect", Aws)));

        var listed = Assert.Single((await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/policies", TestContext.Timeout)).EnumerateArray());
        Assert.Equal("redact", listed.GetProperty("secrets").GetString());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("effect").ValueKind);

        using var explain = await gateway.Admin.PostAsJsonAsync("/api/v1/policies/explain", new { agent = "agent", tool = "strict__reflect" }, TestContext.Timeout);
        var answer = await explain.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.Equal(("allow", "redact", "redact-reflect"), (answer.GetProperty("effect").GetString(), answer.GetProperty("secrets").GetString(), answer.GetProperty("secretsRule").GetString()));
        using var other = await gateway.Admin.PostAsJsonAsync("/api/v1/policies/explain", new { agent = "agent", tool = "strict__leak_env" }, TestContext.Timeout);
        var otherAnswer = await other.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.Equal(("block", JsonValueKind.Null), (otherAnswer.GetProperty("secrets").GetString(), otherAnswer.GetProperty("secretsRule").ValueKind));
    }

    private static string? FirstError(JsonElement errors, string field) =>
        errors.TryGetProperty(field, out var list) ? list[0].GetString() : null;
}
