namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records an admin change as an <see cref="AuditKinds.AdminChange"/> entry in the shape of <see cref="AdminChanges"/>,
/// naming the current <see cref="AuditActor"/>, queued to the audit writer after the change: for changes the gateway's
/// stores do not make (OAuth consents and grants, which OpenIddict stores through its own context). The stores' changes
/// commit with their entries instead (<see cref="IAdminChangeTransactions"/>).
/// </summary>
public sealed class AdminChangeRecorder(IAuditSink audit, TimeProvider time)
{
    /// <summary>Records one change.</summary>
    /// <param name="type">What changed: <c>server</c>, <c>agent</c>, <c>agent_key</c>, <c>policy</c>, <c>tool_class</c>.</param>
    /// <param name="name">Which one.</param>
    /// <param name="action">What was done: <c>create</c>, <c>update</c>, <c>delete</c>, <c>rotate</c>, <c>revoke</c>, <c>set</c>.</param>
    /// <param name="before">The state before (<see langword="null"/> when created).</param>
    /// <param name="after">The state after (<see langword="null"/> when deleted).</param>
    /// <param name="server">The server concerned, when there is one.</param>
    public ValueTask RecordAsync(string type, string name, string action, object? before, object? after, string? server = null) =>
        audit.WriteAsync(AdminChanges.Record(time.GetUtcNow(), AuditActor.Current, type, name, action, before, after, server), CancellationToken.None);
}
