namespace Gateway.Core.Sessions;

/// <summary>
/// Messages from one gateway instance to another through the shared database: what an agent sent to one instance but
/// only another can act on (the answer to a question that instance asked on the agent's session). No instance knows
/// another's address; both know the database, and its change watch wakes the receiver.
/// </summary>
public interface IInstanceMailbox
{
    /// <summary>The largest payload carried, in characters; what an agent sends is capped below this before it is posted.</summary>
    const int MaxPayloadChars = 4 * 1024 * 1024;

    /// <summary>Leaves <paramref name="message"/> for its instance; it is dropped unread after its expiry.</summary>
    Task PostAsync(InstanceMessage message, CancellationToken cancellationToken);

    /// <summary>Takes (reads and deletes) the unexpired messages left for <paramref name="instanceId"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<InstanceMessage>> TakeAsync(string instanceId, int limit, CancellationToken cancellationToken);
}

/// <summary>A message for <paramref name="Instance"/> about an agent session.</summary>
/// <param name="Instance">The receiving instance (<see cref="Audit.GatewayInstance.Id"/>).</param>
/// <param name="Kind">What it is, e.g. <c>answer</c>; at most 32 characters.</param>
/// <param name="SessionId">The agent session it belongs to; the receiver checks it against its own record.</param>
/// <param name="Payload">The message itself (JSON text), at most <see cref="IInstanceMailbox.MaxPayloadChars"/>.</param>
/// <param name="ExpiresAt">After this nobody acts on it.</param>
public sealed record InstanceMessage(string Instance, string Kind, string SessionId, string Payload, DateTimeOffset ExpiresAt);
