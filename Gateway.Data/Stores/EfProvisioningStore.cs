using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Credentials;
using Gateway.Core.Provisioning;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// Reconciles the configuration's servers and agents into the database, in one transaction, touching only rows that
/// differ: applying the same configuration twice changes nothing.
/// </summary>
/// <remarks>
/// Configuration owns what it declares. A server or agent created through the API with the same name is taken over
/// (marked managed); a managed row the configuration no longer declares is removed.
/// </remarks>
internal sealed class EfProvisioningStore(IDbContextFactory<GatewayDbContext> factory, ICredentialProtector protector, TimeProvider time) : IProvisioningStore
{
    public async Task<ProvisioningReport> ApplyAsync(ProvisioningSpec spec, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow();

        int serversAdded = 0, serversUpdated = 0, serversRemoved = 0;
        var servers = await db.Servers.ToDictionaryAsync(s => s.Name, StringComparer.Ordinal, cancellationToken);
        foreach (var wanted in spec.Servers.Select(s => s with { ManagedByConfiguration = true }))
        {
            if (!servers.TryGetValue(wanted.Name, out var row))
            {
                row = new ServerEntity { Name = wanted.Name, Transport = string.Empty, CreatedAt = now, UpdatedAt = now };
                row.CopyFrom(wanted, protector);
                row.WriteCredential(wanted.Credential, protector, now);
                db.Servers.Add(row);
                serversAdded++;
            }
            else if (row.ToDefinition(protector) is var current && !current.SameAs(wanted))
            {
                row.CopyFrom(wanted, protector);
                if (!UpstreamCredential.Same(current.Credential, wanted.Credential))
                {
                    // Only a changed secret counts as a rotation; re-encrypting the same one would move RotatedAt.
                    row.WriteCredential(wanted.Credential, protector, now);
                }

                row.UpdatedAt = now;
                serversUpdated++;
            }
        }

        var declaredServers = spec.Servers.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in servers.Values.Where(s => s.ManagedByConfiguration && !declaredServers.Contains(s.Name)))
        {
            db.Servers.Remove(stale);
            serversRemoved++;
        }

        int agentsAdded = 0, agentsUpdated = 0, agentsRemoved = 0;
        var agents = await db.Agents.Include(a => a.Grants).Include(a => a.Keys).AsSplitQuery()
            .ToDictionaryAsync(a => a.Name, StringComparer.Ordinal, cancellationToken);
        foreach (var wanted in spec.Agents)
        {
            if (!agents.TryGetValue(wanted.Name, out var row))
            {
                row = new AgentEntity { Name = wanted.Name, ManagedByConfiguration = true, TagsJson = JsonSerializer.Serialize(wanted.Tags), CreatedAt = now, UpdatedAt = now };
                EfAgentStore.ApplyLimits(row, wanted.Limits);
                row.ToolSearch = wanted.Discovery == Gateway.Core.VirtualServers.ToolDiscovery.Search;
                row.Grants.AddRange(wanted.Grants.Select((g, i) => new AgentGrantEntity { Pattern = g, Position = i }));
                if (wanted.ApiKeyHash is not null)
                {
                    row.Keys.Add(ConfigurationKey(wanted.ApiKeyHash, now));
                }

                db.Agents.Add(row);
                agentsAdded++;
                continue;
            }

            var changed = !row.ManagedByConfiguration;
            row.ManagedByConfiguration = true;
            if (!row.Grants.OrderBy(g => g.Position).Select(g => g.Pattern).SequenceEqual(wanted.Grants))
            {
                EfAgentStore.ReplaceGrants(db, row, wanted.Grants);
                changed = true;
            }

            var tags = JsonSerializer.Serialize(wanted.Tags);
            if (row.TagsJson != tags)
            {
                row.TagsJson = tags;
                changed = true;
            }

            changed |= EfAgentStore.ApplyLimits(row, wanted.Limits);
            var toolSearch = wanted.Discovery == Gateway.Core.VirtualServers.ToolDiscovery.Search;
            if (row.ToolSearch != toolSearch)
            {
                row.ToolSearch = toolSearch;
                changed = true;
            }

            changed |= ReconcileConfigurationKey(row, wanted.ApiKeyHash, now);
            if (changed)
            {
                row.UpdatedAt = now;
                agentsUpdated++;
            }
        }

        var declaredAgents = spec.Agents.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in agents.Values.Where(a => a.ManagedByConfiguration && !declaredAgents.Contains(a.Name)))
        {
            db.Agents.Remove(stale);
            agentsRemoved++;
        }

        var rules = await db.PolicyRules.ToDictionaryAsync(r => r.Name, StringComparer.Ordinal, cancellationToken);
        foreach (var wanted in spec.Policies)
        {
            var json = EfPolicyStore.Serialize(wanted);
            if (!rules.TryGetValue(wanted.Name, out var row))
            {
                db.PolicyRules.Add(new PolicyRuleEntity { Name = wanted.Name, Json = json, ManagedByConfiguration = true, CreatedAt = now, UpdatedAt = now });
            }
            else if (row.Json != json || !row.ManagedByConfiguration)
            {
                row.Json = json;
                row.ManagedByConfiguration = true;
                row.UpdatedAt = now;
            }
        }

        var declaredRules = spec.Policies.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        db.PolicyRules.RemoveRange(rules.Values.Where(r => r.ManagedByConfiguration && !declaredRules.Contains(r.Name)));

        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new ProvisioningReport(serversAdded, serversUpdated, serversRemoved, agentsAdded, agentsUpdated, agentsRemoved);
    }

    /// <summary>The configured key is the one active configuration key; an earlier configured key is revoked.</summary>
    private static bool ReconcileConfigurationKey(AgentEntity row, string? wantedHash, DateTimeOffset now)
    {
        var changed = false;
        foreach (var k in row.Keys.Where(k => k.Source == EfAgentStore.ConfigurationSource && k.KeyHash != wantedHash && k.RevokedAt is null))
        {
            k.RevokedAt = now;
            changed = true;
        }

        if (wantedHash is null)
        {
            return changed;
        }

        var existing = row.Keys.FirstOrDefault(k => k.KeyHash == wantedHash);
        if (existing is null)
        {
            row.Keys.Add(ConfigurationKey(wantedHash, now));
            return true;
        }

        if (existing.RevokedAt is not null)
        {
            // Configuration is the source of truth for the keys it declares.
            existing.RevokedAt = null;
            changed = true;
        }

        return changed;
    }

    private static AgentKeyEntity ConfigurationKey(string hash, DateTimeOffset now) =>
        new() { KeyHash = hash, Hint = "configured", Source = EfAgentStore.ConfigurationSource, CreatedAt = now };
}
