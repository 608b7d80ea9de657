using Gateway.Web.Hosting;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Web.Hosting;

/// <summary>The change-poll setting is read under its name, and under its former name when that is all an operator set.</summary>
public sealed class ChangePollIntervalTests
{
    [Theory]
    [InlineData("00:00:02", null, 2.0)]
    [InlineData(null, "00:00:03", 3.0)]
    [InlineData("00:00:02", "00:00:03", 2.0)]
    [InlineData(null, null, null)]
    public void NewName_WinsOverTheFormerName(string? current, string? former, double? seconds)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Database:ChangePollInterval"] = current,
            ["Gateway:Upstreams:AgentRefreshInterval"] = former,
        }).Build();
        Assert.Equal(seconds, GatewayPaths.ChangePollInterval(configuration)?.TotalSeconds);
    }
}
