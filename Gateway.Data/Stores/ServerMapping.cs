using System.Text.Json;
using Gateway.Core.Servers;
using Gateway.Data.Entities;

namespace Gateway.Data.Stores;

/// <summary>Maps between <see cref="ServerDefinition"/> and its row.</summary>
internal static class ServerMapping
{
    public static ServerDefinition ToDefinition(this ServerEntity e) => new()
    {
        Name = e.Name,
        Transport = Enum.Parse<ServerTransport>(e.Transport, ignoreCase: true),
        Command = e.Command,
        Args = JsonSerializer.Deserialize<List<string>>(e.ArgsJson) ?? [],
        Env = JsonSerializer.Deserialize<Dictionary<string, string>>(e.EnvJson) ?? [],
        WorkingDirectory = e.WorkingDirectory,
        Url = e.Url,
        Headers = JsonSerializer.Deserialize<Dictionary<string, string>>(e.HeadersJson) ?? [],
        ToolPrefix = e.ToolPrefix,
        Enabled = e.Enabled,
        ManagedByConfiguration = e.ManagedByConfiguration,
        ConnectTimeout = TimeSpan.FromMilliseconds(e.ConnectTimeoutMs),
        CallTimeout = TimeSpan.FromMilliseconds(e.CallTimeoutMs),
    };

    public static void CopyFrom(this ServerEntity e, ServerDefinition d)
    {
        e.Name = d.Name;
        e.Transport = d.Transport.ToString().ToLowerInvariant();
        e.Command = d.Command;
        e.ArgsJson = JsonSerializer.Serialize(d.Args);
        e.EnvJson = JsonSerializer.Serialize(d.Env);
        e.WorkingDirectory = d.WorkingDirectory;
        e.Url = d.Url;
        e.HeadersJson = JsonSerializer.Serialize(d.Headers);
        e.ToolPrefix = d.ToolPrefix;
        e.Enabled = d.Enabled;
        e.ManagedByConfiguration = d.ManagedByConfiguration;
        e.ConnectTimeoutMs = (long)d.ConnectTimeout.TotalMilliseconds;
        e.CallTimeoutMs = (long)d.CallTimeout.TotalMilliseconds;
    }

    public static StoredServer ToStored(this ServerEntity e) => new(e.Id, e.ToDefinition());
}
