using Gateway.Core.Servers;

namespace Gateway.Tests.Core;

/// <summary>Client configuration files as the clients write them, read into server definitions for review.</summary>
public sealed class McpConfigImportTests
{
    [Fact]
    public void ClaudeDesktop_StdioServers_WithEnv_AreRead_AndSecretsAreNamed()
    {
        var (servers, error) = McpConfigImport.Parse("""
            {
              "mcpServers": {
                "github": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_secret" } },
                "filesystem": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me"] }
              }
            }
            """);

        Assert.Null(error);
        Assert.Equal(["github", "filesystem"], servers.Select(s => s.Definition.Name));
        var github = servers[0];
        Assert.Equal(ServerTransport.Stdio, github.Definition.Transport);
        Assert.Equal("npx", github.Definition.Command);
        Assert.Equal(["-y", "@modelcontextprotocol/server-github"], github.Definition.Args);
        Assert.Equal("ghp_secret", github.Definition.Env["GITHUB_PERSONAL_ACCESS_TOKEN"]);
        Assert.Contains(github.Notes, n => n.Contains("GITHUB_PERSONAL_ACCESS_TOKEN", StringComparison.Ordinal) && n.Contains("secret", StringComparison.Ordinal));
        Assert.Empty(servers[1].Notes);
        Assert.All(servers, s => Assert.True(new ServerDefinitionValidator().Validate(s.Definition).IsValid));
    }

    [Fact]
    public void VsCode_RemoteServers_WithTypesHeadersAndInputs_AreRead()
    {
        var (servers, error) = McpConfigImport.Parse("""
            {
              // VS Code allows comments
              "inputs": [ { "id": "api-key", "type": "promptString", "password": true } ],
              "servers": {
                "payments": { "type": "http", "url": "https://mcp.payments.example/mcp", "headers": { "Authorization": "Bearer ${input:api-key}" } },
                "legacy": { "type": "sse", "url": "https://old.example/sse" },
                "local": { "type": "stdio", "command": "dotnet", "args": ["run"], "cwd": "/srv/tool" },
              }
            }
            """);

        Assert.Null(error);
        var payments = servers.Single(s => s.Definition.Name == "payments");
        Assert.Equal(ServerTransport.Http, payments.Definition.Transport);
        Assert.Equal("https://mcp.payments.example/mcp", payments.Definition.Url);
        Assert.Equal("Bearer ${input:api-key}", payments.Definition.Headers["Authorization"]);
        Assert.Contains(payments.Notes, n => n.Contains("placeholder", StringComparison.Ordinal));
        Assert.Equal(ServerTransport.Sse, servers.Single(s => s.Definition.Name == "legacy").Definition.Transport);
        var local = servers.Single(s => s.Definition.Name == "local").Definition;
        Assert.Equal(("dotnet", "/srv/tool"), (local.Command, local.WorkingDirectory));
        Assert.All(servers, s => Assert.True(new ServerDefinitionValidator().Validate(s.Definition).IsValid));
    }

    [Fact]
    public void Cursor_UrlOnlyEntries_AreStreamableHttp_AndNamesAreMadeValidAndUnique()
    {
        var (servers, _) = McpConfigImport.Parse("""
            { "mcpServers": { "My Server!": { "url": "https://a.example/mcp" }, "My-Server": { "url": "https://b.example/mcp" }, "@scope/tool": { "url": "https://c.example/mcp" } } }
            """);

        Assert.Equal(["My-Server", "My-Server-2", "scope-tool"], servers.Select(s => s.Definition.Name));
        Assert.All(servers, s => Assert.Equal(ServerTransport.Http, s.Definition.Transport));
        Assert.Contains(servers[0].Notes, n => n.StartsWith("Renamed from 'My Server!'", StringComparison.Ordinal));
        Assert.Contains(servers[1].Notes, n => n.StartsWith("Renamed from 'My-Server'", StringComparison.Ordinal));
        Assert.All(servers, s => Assert.True(Gateway.Core.Names.IsValid(s.Definition.Name)));
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("""{ "something": {} }""", "No \"mcpServers\"")]
    [InlineData("""{ "mcpServers": {} }""", "no servers")]
    [InlineData("[1, 2]", "No \"mcpServers\"")]
    [InlineData("""{ "mcpServers": { "files": { "command": "npx", "env": { "API_TOKEN": null, "API_TOKEN": "t0k3n" } } } }""", "not valid JSON")]
    [InlineData("""{ "mcpServers": { "files": { "command": "a" }, "files": { "command": "b" } } }""", "not valid JSON")]
    public void UnreadableFiles_SayWhy_AndYieldNothing(string json, string reason)
    {
        var (servers, error) = McpConfigImport.Parse(json);
        Assert.Empty(servers);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
