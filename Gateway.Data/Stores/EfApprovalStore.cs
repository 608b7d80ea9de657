using Gateway.Core.Approvals;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data.Stores;

/// <summary>Approvals in the database; every transition is one conditional UPDATE, so exactly one writer wins.</summary>
internal sealed class EfApprovalStore(IDbContextFactory<GatewayDbContext> factory) : IApprovalStore
{
    private static readonly string Pending = ApprovalStatus.Pending.ToString();
    private static readonly string Approved = ApprovalStatus.Approved.ToString();

    public async Task CreateAsync(Approval approval, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.Add(ToEntity(approval));
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<Approval?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Set<ApprovalEntity>().AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        return row is null ? null : ToApproval(row);
    }

    public async Task<IReadOnlyList<Approval>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var query = db.Set<ApprovalEntity>().AsNoTracking();
        if (status is { } s)
        {
            var text = s.ToString();
            query = query.Where(a => a.Status == text);
        }

        var rows = await query.OrderByDescending(a => a.CreatedAt).Take(limit).ToListAsync(cancellationToken);
        return [.. rows.Select(ToApproval)];
    }

    public async Task<DecisionResult> DecideAsync(string id, bool approve, string by, string? reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var status = (approve ? ApprovalStatus.Approved : ApprovalStatus.Denied).ToString();
        var updated = await db.Set<ApprovalEntity>()
            .Where(a => a.Id == id && a.Status == Pending && a.ExpiresAt > now)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, status).SetProperty(a => a.DecidedBy, by).SetProperty(a => a.DecidedAt, now).SetProperty(a => a.DecisionReason, reason), cancellationToken);
        if (updated == 1)
        {
            return DecisionResult.Decided;
        }

        return await db.Set<ApprovalEntity>().AnyAsync(a => a.Id == id, cancellationToken) ? DecisionResult.AlreadyDecided : DecisionResult.NotFound;
    }

    public async Task<bool> ConsumeAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var executed = ApprovalStatus.Executed.ToString();
        return await db.Set<ApprovalEntity>().Where(a => a.Id == id && a.Status == Approved)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, executed), cancellationToken) == 1;
    }

    public async Task<bool> ExpireAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var expired = ApprovalStatus.Expired.ToString();
        return await db.Set<ApprovalEntity>().Where(a => a.Id == id && a.Status == Pending && a.ExpiresAt <= now)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, expired), cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<Approval>> ListDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        // A plain command for the look every instance takes once a minute, nearly always finding nothing, as the followed
        // tasks' claim does: no EF Core query compiled in every idle gateway for it. Measured (bench/fixed-costs.sh
        // --cpu-marks 60,360, three builds side by side): 0.29% of a core without the sweep, 0.33% with it by EF Core,
        // 0.31% with this command, 178 MB each; within the noise, and the cheaper of the two. The rows, when any, by EF.
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var ids = new List<string>();
        await using (var due = db.Database.GetDbConnection().CreateCommand())
        {
            due.CommandText = "SELECT \"Id\" FROM \"Approvals\" WHERE \"Status\" = @pending AND \"ExpiresAt\" <= @now ORDER BY \"CreatedAt\" LIMIT @max";
            due.Add("@pending", Pending);
            due.Add("@now", db.Database.IsPostgres() ? now.ToUniversalTime() : Binary.ConvertToProvider(now));
            due.Add("@max", max);
            await using var reader = await due.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetString(0));
            }
        }

        if (ids.Count == 0)
        {
            return [];
        }

        var rows = await db.Set<ApprovalEntity>().AsNoTracking().Where(a => ids.Contains(a.Id)).ToListAsync(cancellationToken);
        return [.. rows.Select(ToApproval).OrderBy(a => a.CreatedAt)];
    }

    // As ApprovalEntityConfiguration stores ExpiresAt on SQLite, for the plain command above (PostgreSQL's column is a
    // timestamp with time zone).
    private static readonly DateTimeOffsetToBinaryConverter Binary = new();

    public async Task<int> CountPendingAsync(long agentId, string actor, DateTimeOffset now, int atMost, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        // Ordered by key only so that the count stops at atMost without EF Core's warning about a limit without an order
        // (logged at the first escalation); which rows are counted does not matter.
        return await db.Set<ApprovalEntity>().Where(a => a.AgentId == agentId && a.Agent == actor && a.Status == Pending && a.ExpiresAt > now)
            .OrderBy(a => a.Id).Take(atMost).CountAsync(cancellationToken);
    }

    public async Task<Approval?> FindForCallAsync(long agentId, string actor, string server, string tool, string toolDefinitionSha256, string argumentsSha256, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Set<ApprovalEntity>().AsNoTracking()
            .Where(a => a.AgentId == agentId && a.Agent == actor && a.Server == server && a.Tool == tool && a.ToolDefinitionSha256 == toolDefinitionSha256
                && a.ArgumentsSha256 == argumentsSha256 && (a.Status == Pending || a.Status == Approved) && a.ExpiresAt > now)
            .OrderByDescending(a => a.Status == Approved)
            .FirstOrDefaultAsync(cancellationToken);
        return row is null ? null : ToApproval(row);
    }

    private static ApprovalEntity ToEntity(Approval a) => new()
    {
        Id = a.Id,
        AgentId = a.AgentId,
        Agent = a.Agent,
        Server = a.Server,
        Tool = a.Tool,
        ToolDefinitionSha256 = a.ToolDefinitionSha256,
        ArgumentsJson = a.ArgumentsJson,
        ArgumentsSha256 = a.ArgumentsSha256,
        Rule = a.Rule,
        Reason = a.Reason,
        CreatedAt = a.CreatedAt,
        ExpiresAt = a.ExpiresAt,
        Status = a.Status.ToString(),
        DecidedBy = a.DecidedBy,
        DecidedAt = a.DecidedAt,
        DecisionReason = a.DecisionReason,
    };

    internal static Approval ToApproval(ApprovalEntity e) => new()
    {
        Id = e.Id,
        AgentId = e.AgentId,
        Agent = e.Agent,
        Server = e.Server,
        Tool = e.Tool,
        ToolDefinitionSha256 = e.ToolDefinitionSha256,
        ArgumentsJson = e.ArgumentsJson,
        ArgumentsSha256 = e.ArgumentsSha256,
        Rule = e.Rule,
        Reason = e.Reason,
        CreatedAt = e.CreatedAt,
        ExpiresAt = e.ExpiresAt,
        Status = Enum.Parse<ApprovalStatus>(e.Status),
        DecidedBy = e.DecidedBy,
        DecidedAt = e.DecidedAt,
        DecisionReason = e.DecisionReason,
    };
}
