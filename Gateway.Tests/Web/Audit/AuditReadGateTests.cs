using System.Net;
using Gateway.Tests.Support;
using Gateway.Web.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// Whole-trail reads (exports, verifications, evidence packs) run one at a time on an instance: while one runs, another
/// gets 429 with Retry-After and the reason, and once it is done the next one runs (real gateway, real SQLite file).
/// </summary>
public sealed class AuditReadGateTests
{
    [Theory]
    [InlineData("GET", "/api/v1/audit/export?format=jsonl")]
    [InlineData("GET", "/api/v1/audit/export?format=csv")]
    [InlineData("POST", "/api/v1/audit/verify")]
    public async Task AWholeTrailRead_WhileAnotherRuns_Gets429WithRetryAfter_AndRunsOnceItIsDone(string method, string path)
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var gate = gateway.Services.GetRequiredService<AuditReadGate>();

        using (var other = gate.TryEnter())
        {
            Assert.NotNull(other);
            using var busy = await gateway.Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Timeout);
            Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(AuditReadGate.RetryAfterSeconds), busy.Headers.RetryAfter?.Delta);
            Assert.Contains("Another audit export, verification or evidence pack", await busy.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        using var served = await gateway.Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);

        // And the read gave its place back.
        using var again = gate.TryEnter();
        Assert.NotNull(again);
    }
}
