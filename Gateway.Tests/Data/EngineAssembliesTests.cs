using Gateway.Tests.Support;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Data;

/// <summary>
/// A gateway on SQLite does not load PostgreSQL's code: the engine checks read the provider's name instead of calling
/// the providers' own <c>IsNpgsql()</c>, which lives in (and so loaded) its EF Core provider, about 1 MB resident in every
/// idle gateway on SQLite, and a start no longer loads every type of Gateway.Data to find the migrations. Read from the
/// process's memory map after a start and a call.
/// </summary>
public sealed class EngineAssembliesTests
{
    private const string Key = "engine-assemblies-agent-key-0123";

    [Fact]
    public async Task GatewayOnSqlite_StartsAndServesACall_WithoutLoadingPostgreSqlsCode()
    {
        await using var gateway = await GatewayProcess.StartOnSqliteAsync(Merge(Stdio("files"), Agent("agent", Key, "files/echo")));
        await using (var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(gateway.BaseUri, "/mcp"),
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Key },
            }),
            new McpClientOptions { ProtocolVersion = "2025-11-25" },
            cancellationToken: TestContext.Timeout))
        {
            var result = await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, result.IsError);
            Assert.Contains("hi", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
        }

        var mapped = (await File.ReadAllLinesAsync($"/proc/{gateway.Process.Id}/maps", TestContext.Timeout))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length > 5)
            .Select(parts => Path.GetFileName(parts[5]))
            .ToHashSet(StringComparer.Ordinal);

        // The map is read right: SQLite's provider is in it. Npgsql's driver was loaded too, in a build without
        // ReadyToRun such as this one, by EF Core's scan of Gateway.Data for migrations at each start (MigrationIds).
        Assert.Contains("Microsoft.EntityFrameworkCore.Sqlite.dll", mapped);
        Assert.DoesNotContain("Npgsql.EntityFrameworkCore.PostgreSQL.dll", mapped);
        Assert.DoesNotContain("Npgsql.dll", mapped);
    }
}
