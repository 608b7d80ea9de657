using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Web.Hosting;

/// <summary>The probes a process manager or load balancer uses: anonymous, and saying no more than Healthy.</summary>
public sealed class HealthProbeTests
{
    [Fact]
    public async Task Liveness_AndReadiness_AnswerAnonymously_WithoutDetail()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.BaseUri };

        foreach (var probe in new[] { "/healthz", "/readyz" })
        {
            using var response = await anonymous.GetAsync(probe, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestContext.Timeout));
        }

        // The probes open nothing else: the console and the API still want a sign-in.
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync("/servers", TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
    }
}
