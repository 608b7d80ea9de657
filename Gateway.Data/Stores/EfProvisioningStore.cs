using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Credentials;
using Gateway.Core.Provisioning;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// Reconciles the configuration's servers, agents and policy rules into the database, in one transaction, touching
/// only rows that differ: applying the same configuration twice changes nothing. Every change is an admin-change
/// audit entry by <see cref="AuditActor.Configuration"/>, with the same before and after an equivalent change through
/// the operations layer records, appended to the chain in the same transaction: no change without its entry, no entry
/// without its change, and none when nothing changed.
/// </summary>
/// <remarks>
/// Configuration owns what it declares. A server or agent created through the API with the same name is taken over
/// (marked managed, audited as an update); a managed row the configuration no longer declares is removed.
/// </remarks>
internal sealed class EfProvisioningStore(IDbContextFactory<GatewayDbContext> factory, ICredentialProtector protector, TimeProvider time) : IProvisioningStore
{
    /// <summary>The advisory lock key that serializes provisioning across instances on PostgreSQL ("provisio" in ASCII).</summary>
    private const long ProvisioningLock = 0x70726f766973696f;

    public async Task<ProvisioningReport> ApplyAsync(ProvisioningSpec spec, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);

        if (db.Database.IsPostgres())
        {
            // Instances starting together on one database provision one after the other, the later one finding nothing
            // to change (else both would apply, and audit, the same change). Not the chain's lock: a restart that
            // changes nothing must not hold up the other instances' audit entries. SQLite's IMMEDIATE transaction
            // already serializes writers.
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({ProvisioningLock})", cancellationToken);
        }
        var now = time.GetUtcNow();

        // The entries' "after" is read once the changes are saved, when new keys have their ids (as the API's entries show them).
        var changes = new List<Change>();

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
                changes.Add(new("server", wanted.Name, "create", null, () => row.ToDefinition(protector), wanted.Name));
                serversAdded++;
            }
            else if (row.ToDefinition(protector) is var current && !current.SameAs(wanted))
            {
                row.CopyFrom(wanted, protector);
                if (!(current with { Credential = wanted.Credential }).SameAs(wanted))
                {
                    // The credential has its own entry, as through the API: this one shows the rest of the definition.
                    changes.Add(new("server", wanted.Name, "update", current, () => row.ToDefinition(protector) with { Credential = current.Credential }, wanted.Name));
                }

                if (!UpstreamCredential.Same(current.Credential, wanted.Credential))
                {
                    // Only a changed secret counts as a rotation; re-encrypting the same one would move RotatedAt.
                    row.WriteCredential(wanted.Credential, protector, now);
                    changes.Add(new(
                        "server_credential",
                        wanted.Name,
                        AdminChanges.CredentialAction(current.Credential, wanted.Credential),
                        AdminChanges.Credential(current.Credential),
                        () => AdminChanges.Credential(row.ToDefinition(protector).Credential),
                        wanted.Name));
                }

                row.UpdatedAt = now;
                serversUpdated++;
            }
        }

        var declaredServers = spec.Servers.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in servers.Values.Where(s => s.ManagedByConfiguration && !declaredServers.Contains(s.Name)))
        {
            changes.Add(new("server", stale.Name, "delete", stale.ToDefinition(protector), () => null, stale.Name));
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
                changes.Add(new("agent", wanted.Name, "create", null, () => EfAgentStore.ToRecord(row), null));
                agentsAdded++;
                continue;
            }

            var before = EfAgentStore.ToRecord(row);
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

            if (changed)
            {
                // The keys have their own entry, as through the API: this one shows the rest of the agent.
                changes.Add(new("agent", wanted.Name, "update", before, () => EfAgentStore.ToRecord(row) with { Keys = before.Keys }, null));
            }

            if (ReconcileConfigurationKey(row, wanted.ApiKeyHash, now) is { } keyAction)
            {
                changes.Add(new("agent_key", wanted.Name, keyAction, before.Keys, () => EfAgentStore.ToRecord(row).Keys, null));
                changed = true;
            }

            if (changed)
            {
                row.UpdatedAt = now;
                agentsUpdated++;
            }
        }

        var declaredAgents = spec.Agents.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in agents.Values.Where(a => a.ManagedByConfiguration && !declaredAgents.Contains(a.Name)))
        {
            changes.Add(new("agent", stale.Name, "delete", EfAgentStore.ToRecord(stale), () => null, null));
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
                changes.Add(new("policy", wanted.Name, "create", null, () => wanted, null));
            }
            else if (row.Json != json || !row.ManagedByConfiguration)
            {
                changes.Add(new("policy", wanted.Name, "update", EfPolicyStore.ToRule(row), () => wanted, null));
                row.Json = json;
                row.ManagedByConfiguration = true;
                row.UpdatedAt = now;
            }
        }

        var declaredRules = spec.Policies.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in rules.Values.Where(r => r.ManagedByConfiguration && !declaredRules.Contains(r.Name)))
        {
            changes.Add(new("policy", stale.Name, "delete", EfPolicyStore.ToRule(stale), () => null, null));
            db.PolicyRules.Remove(stale);
        }

        await db.SaveChangesAsync(cancellationToken);
        await TransactionalAudit.AppendAsync(
            db,
            [.. changes.Select(c => AdminChanges.Record(now, AuditActor.Configuration, c.Type, c.Name, c.Action, c.Before, c.After(), c.Server))],
            cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new ProvisioningReport(serversAdded, serversUpdated, serversRemoved, agentsAdded, agentsUpdated, agentsRemoved) { AuditEntries = changes.Count };
    }

    /// <summary>
    /// The configured key is the one active configuration key; an earlier configured key is revoked. Returns the
    /// change as the API's key entries name it (<c>rotate</c>: a key replaced another; <c>create</c>: one added;
    /// <c>revoke</c>: one revoked), or <see langword="null"/> when the keys are as configured.
    /// </summary>
    private static string? ReconcileConfigurationKey(AgentEntity row, string? wantedHash, DateTimeOffset now)
    {
        var revoked = false;
        foreach (var k in row.Keys.Where(k => k.Origin == EfAgentStore.ConfigurationSource && k.KeyHash != wantedHash && k.RevokedAt is null))
        {
            k.RevokedAt = now;
            revoked = true;
        }

        var added = false;
        if (wantedHash is not null)
        {
            var existing = row.Keys.FirstOrDefault(k => k.KeyHash == wantedHash);
            if (existing is null)
            {
                row.Keys.Add(ConfigurationKey(wantedHash, now));
                added = true;
            }
            else if (existing.RevokedAt is not null)
            {
                // Configuration is the source of truth for the keys it declares.
                existing.RevokedAt = null;
                added = true;
            }
        }

        return (revoked, added) switch
        {
            (true, true) => "rotate",
            (false, true) => "create",
            (true, false) => "revoke",
            _ => null,
        };
    }

    private static AgentKeyEntity ConfigurationKey(string hash, DateTimeOffset now) =>
        new() { KeyHash = hash, Hint = "configured", Origin = EfAgentStore.ConfigurationSource, CreatedAt = now };

    /// <summary>One change to audit: <paramref name="After"/> is read after the save.</summary>
    private sealed record Change(string Type, string Name, string Action, object? Before, Func<object?> After, string? Server);
}
