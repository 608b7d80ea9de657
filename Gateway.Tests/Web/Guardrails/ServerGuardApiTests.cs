using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Guardrails;

/// <summary>A server's result guard through the admin API: validated, stored, described, and applied to the next call.</summary>
public sealed class ServerGuardApiTests
{
    private const string Key = "guard-api-agent-key-0123456789";

    [Fact]
    public async Task TheGuard_IsValidated_Stored_Described_AndChangesApplyToTheNextCall()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", Key, "*/*"));
        var args = new[] { TestUpstreamDll, "stdio", "--name", "rt", "--hostile" };

        using var invalid = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "rt", transport = "stdio", command = "dotnet", args,
            guard = new { secrets = "shred", unicode = "strip", labels = new[] { "Private!" } },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
        Assert.Equal("Guard secrets must be one of off, flag, redact, block.", errors.GetProperty("guard.secrets")[0].GetString());
        Assert.Contains("A label is 1-32 lower-case letters", errors.GetProperty("guard")[0].GetString(), StringComparison.Ordinal);

        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "rt", transport = "stdio", command = "dotnet", args,
            guard = new { secrets = "flag", labels = new[] { "private" } },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var described = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/rt", TestContext.Timeout);
        Assert.Equal("""{"secrets":"flag","unicode":"strip","labels":["private"]}""", described.GetProperty("guard").GetRawText());

        await gateway.WaitForToolAsync("rt__reflect");
        await using var client = await gateway.ConnectAsync(Key);
        var secret = "AKIAIOSFODNN7EXAMPLE";
        var flagged = await client.CallToolAsync("rt__reflect", new Dictionary<string, object?> { ["text"] = secret }, cancellationToken: TestContext.Timeout);
        Assert.Equal(secret, Assert.IsType<TextContentBlock>(Assert.Single(flagged.Content)).Text);

        using var changed = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/rt", new
        {
            transport = "stdio", command = "dotnet", args,
            guard = new { secrets = "block" },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        await gateway.WaitForToolAsync("rt__reflect");
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    var blocked = await client.CallToolAsync("rt__reflect", new Dictionary<string, object?> { ["text"] = secret }, cancellationToken: TestContext.Timeout);
                    return blocked.IsError == true && blocked.Content.OfType<TextContentBlock>().Any(t => t.Text.Contains("(aws-access-key)", StringComparison.Ordinal));
                }
                catch (ModelContextProtocol.McpProtocolException)
                {
                    return false; // the server is being reconnected with its new definition
                }
            },
            "the result is withheld after the change");
    }
}
