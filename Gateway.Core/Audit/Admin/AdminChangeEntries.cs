namespace Gateway.Core.Audit.Admin;

/// <summary>
/// The entries of one admin change, in the shape of <see cref="AdminChanges"/> and naming the current
/// <see cref="AuditActor"/>, collected while the change runs so they commit with it (<see cref="IAdminChangeTransactions"/>).
/// </summary>
public sealed class AdminChangeEntries(TimeProvider time)
{
    private readonly List<AuditRecord> _records = [];

    /// <summary>Gets the entries added so far, in the order they were.</summary>
    public IReadOnlyList<AuditRecord> Records => _records;

    /// <summary>Adds the entry of one change.</summary>
    /// <param name="type">What changed: <c>server</c>, <c>agent</c>, <c>agent_key</c>, <c>policy</c>, <c>tool_class</c>.</param>
    /// <param name="name">Which one.</param>
    /// <param name="action">What was done: <c>create</c>, <c>update</c>, <c>delete</c>, <c>rotate</c>, <c>revoke</c>, <c>set</c>.</param>
    /// <param name="before">The state before (<see langword="null"/> when created).</param>
    /// <param name="after">The state after (<see langword="null"/> when deleted).</param>
    /// <param name="server">The server concerned, when there is one.</param>
    public void Add(string type, string name, string action, object? before, object? after, string? server = null) =>
        _records.Add(AdminChanges.Record(time.GetUtcNow(), AuditActor.Current, type, name, action, before, after, server));

    /// <summary>Adds an entry of another kind that an admin's decision makes (a tool definition accepted or rejected).</summary>
    public void Add(AuditRecord record) => _records.Add(record);
}
