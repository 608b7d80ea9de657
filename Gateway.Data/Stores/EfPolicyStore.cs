using System.Text.Json;
using Gateway.Core.Policy;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

internal sealed class EfPolicyStore(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : IPolicyStore
{
    public async Task<IReadOnlyList<PolicyRule>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.PolicyRules.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken);
        return [.. rows.Select(ToRule).OfType<PolicyRule>()];
    }

    public async Task<bool> UpsertAsync(PolicyRule rule, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.PolicyRules.SingleOrDefaultAsync(r => r.Name == rule.Name, cancellationToken);
        var now = time.GetUtcNow();
        if (row is null)
        {
            db.PolicyRules.Add(new PolicyRuleEntity { Name = rule.Name, Json = Serialize(rule), ManagedByConfiguration = rule.ManagedByConfiguration, CreatedAt = now, UpdatedAt = now });
        }
        else if (row.ManagedByConfiguration && !rule.ManagedByConfiguration)
        {
            return false;
        }
        else
        {
            row.Json = Serialize(rule);
            row.UpdatedAt = now;
        }

        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public async Task<bool?> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.PolicyRules.SingleOrDefaultAsync(r => r.Name == name, cancellationToken);
        if (row is null)
        {
            return null;
        }

        if (row.ManagedByConfiguration)
        {
            return false;
        }

        db.PolicyRules.Remove(row);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyDictionary<(string Server, string Tool), AccessClass>> ListClassOverridesAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ToolClassOverrides.AsNoTracking().ToListAsync(cancellationToken);
        return rows
            .Where(r => ToolClassifier.TryParse(r.Class, out _))
            .ToDictionary(r => (r.Server, r.Tool), r => ToolClassifier.TryParse(r.Class, out var c) ? c : AccessClass.Destructive);
    }

    public async Task SetClassOverrideAsync(string server, string tool, AccessClass? accessClass, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.ToolClassOverrides.SingleOrDefaultAsync(o => o.Server == server && o.Tool == tool, cancellationToken);
        if (accessClass is not { } c)
        {
            if (row is not null)
            {
                db.ToolClassOverrides.Remove(row);
            }
        }
        else if (row is null)
        {
            db.ToolClassOverrides.Add(new ToolClassOverrideEntity { Server = server, Tool = tool, Class = c.Name() });
        }
        else
        {
            row.Class = c.Name();
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    internal static string Serialize(PolicyRule rule) => JsonSerializer.Serialize(PolicyRuleDocument.From(rule));

    internal static PolicyRule? ToRule(PolicyRuleEntity row)
    {
        var document = JsonSerializer.Deserialize<PolicyRuleDocument>(row.Json);

        // Rows are validated before they are written; one that no longer parses is skipped rather than half-applied.
        return document?.ToRule(new List<string>(), row.ManagedByConfiguration);
    }
}
