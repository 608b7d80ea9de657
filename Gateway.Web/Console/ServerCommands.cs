using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Web.Upstreams;
using Gateway.Web.Validation;
using ModelContextProtocol.Client;

namespace Gateway.Web.Console;

/// <summary>What the console does to servers: validate, test a connection without saving, register.</summary>
internal sealed class ServerCommands(ServerRegistry registry, UpstreamClientFactory factory)
{
    public static Dictionary<string, string[]> Validate(ServerDefinition definition) =>
        new ServerDefinitionValidator().Validate(definition).ByField();

    /// <summary>Connects once, lists the tools and disconnects: nothing is saved.</summary>
    public async Task<(bool Ok, string Message)> TestAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        try
        {
            await using var client = await factory.ConnectAsync(definition, new McpClientHandlers(), _ => { }, null, cancellationToken);
            var tools = client.ServerCapabilities.Tools is null ? 0 : (await client.ListToolsAsync(cancellationToken: cancellationToken)).Count;
            return (true, $"Connected to {client.ServerInfo?.Name ?? definition.Name} (protocol {client.NegotiatedProtocolVersion}): {tools} tools.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (false, "Could not connect: " + ex.Message);
        }
    }

    /// <summary>Registers the server and connects it; <see langword="null"/> when the name is taken.</summary>
    public Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken) => registry.AddAsync(definition, cancellationToken);

    /// <summary>Replaces the definition and reconnects, unless the server is unknown or owned by configuration.</summary>
    public Task<(ServerChange Result, StoredServer? Server)> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken) => registry.UpdateAsync(definition, cancellationToken);

    /// <summary>Sets or replaces a server's credential and reconnects it; <see langword="null"/> when the server is gone.</summary>
    public Task<StoredServer?> SetCredentialAsync(string name, UpstreamCredential? credential, CancellationToken cancellationToken) =>
        registry.SetCredentialAsync(name, credential, cancellationToken);

    /// <summary>Unregisters and disconnects a server, unless it is unknown or owned by configuration.</summary>
    public Task<ServerChange> RemoveAsync(string name, CancellationToken cancellationToken) => registry.RemoveAsync(name, cancellationToken);
}
