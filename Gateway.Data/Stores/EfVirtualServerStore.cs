using System.Text.Json;
using Gateway.Core.VirtualServers;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfVirtualServerStore(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : IVirtualServerStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public async Task<IReadOnlyList<VirtualServer>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.VirtualServers.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken);

        // Rows are validated before they are written; one that no longer reads is skipped rather than half-applied.
        return [.. rows.Select(Read).OfType<VirtualServer>()];
    }

    public async Task UpsertAsync(VirtualServer server, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.VirtualServers.SingleOrDefaultAsync(s => s.Name == server.Name, cancellationToken);
        var now = time.GetUtcNow();
        var document = VirtualServerDocument.From(server);
        if (row is null)
        {
            row = new VirtualServerEntity { Name = server.Name, Discovery = document.Discovery!, Tools = "[]", Agents = "[]", CreatedAt = now };
            db.VirtualServers.Add(row);
        }

        (row.Title, row.Description, row.Discovery) = (server.Title, server.Description, document.Discovery!);
        row.Tools = JsonSerializer.Serialize(document.Tools, Json);
        row.Agents = JsonSerializer.Serialize(server.Agents, Json);
        row.Prompts = JsonSerializer.Serialize(document.Prompts, Json);
        row.Resources = JsonSerializer.Serialize(document.Resources, Json);
        row.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.VirtualServers.Where(s => s.Name == name).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    private static VirtualServer? Read(VirtualServerEntity row)
    {
        List<VirtualToolDocument>? tools;
        List<string>? agents;
        List<VirtualPromptDocument>? prompts;
        List<VirtualResourceDocument>? resources;
        try
        {
            tools = JsonSerializer.Deserialize<List<VirtualToolDocument>>(row.Tools, Json);
            agents = JsonSerializer.Deserialize<List<string>>(row.Agents, Json);
            prompts = JsonSerializer.Deserialize<List<VirtualPromptDocument>>(row.Prompts, Json);
            resources = JsonSerializer.Deserialize<List<VirtualResourceDocument>>(row.Resources, Json);
        }
        catch (JsonException)
        {
            return null;
        }

        return new VirtualServerDocument(row.Name, row.Title, row.Description, row.Discovery, tools, agents, prompts, resources).ToServer(new Dictionary<string, string[]>());
    }
}
