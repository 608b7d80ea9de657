using System.Net;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Console;

/// <summary>No page of the gateway can be framed by another site (clickjacking of the console's buttons); the agents' endpoint is left as it is.</summary>
public sealed class FrameProtectionTests
{
    [Fact]
    public async Task EveryPage_RefusesToBeFramed_OnceAndByBothHeaders_ButTheAgentsEndpointIsLeftAlone()
    {
        await using var gateway = await GatewayHost.StartAsync(Stdio("files"));
        using var browser = ConsoleBrowser.For(gateway);
        await browser.SignInAsAdminAsync();

        foreach (var path in new[] { "/login", "/", "/approvals", "/audit", "/api/v1/servers" })
        {
            using var response = await browser.Client.GetAsync(path, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(["frame-ancestors 'none'"], response.Headers.GetValues("Content-Security-Policy"));
            Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
        }

        using var mcp = await browser.Client.PostAsync("/mcp", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Unauthorized, mcp.StatusCode);
        Assert.False(mcp.Headers.Contains("X-Frame-Options"));
        Assert.False(mcp.Headers.Contains("Content-Security-Policy"));
    }
}
