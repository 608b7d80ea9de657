using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;

namespace Gateway.Tests.Web.Api;

/// <summary>The credential mode through the admin API: stored and shown, and what a mode lacks refused by field.</summary>
public sealed class ServerCredentialModeApiTests
{
    [Fact]
    public async Task CredentialMode_IsStoredAndShown_AndWhatAModeLacksIsRefusedByField()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());

        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "hr", transport = "http", url = "http://127.0.0.1:9/mcp", enabled = false, credentialMode = "tokenExchange", exchangeAudience = "hr-api",
        }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var shown = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/hr", TestContext.Timeout);
        Assert.Equal("tokenExchange", shown.GetProperty("credentialMode").GetString());
        Assert.Equal("hr-api", shown.GetProperty("exchangeAudience").GetString());

        foreach (var (body, field) in new (object Body, string Field)[]
        {
            (new { name = "a", transport = "stdio", command = "node", credentialMode = "perUser" }, "credentialMode"),
            (new { name = "b", transport = "http", url = "http://127.0.0.1:9/mcp", credentialMode = "tokenExchange" }, "exchangeAudience"),
            (new { name = "c", transport = "http", url = "http://127.0.0.1:9/mcp", credentialMode = "impersonate" }, "credentialMode"),
        })
        {
            using var refused = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", body, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }
    }
}
