using System.Collections.Frozen;
using Gateway.Core.Identity;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// The revoked users, in memory on every instance: each agent request checks the set (no database round trip), and it
/// is re-read when the database changes (PostgreSQL notifies on <c>RevokedUsers</c>; SQLite's change poll), or at once
/// after a local revocation. A user newly seen revoked loses their cached upstream tokens here too, and their calls in
/// flight here end (<see cref="Gateway.Web.Mcp.InFlightCalls"/>: the MCP endpoint's, absent from a host without it,
/// such as the console's component tests).
/// </summary>
internal sealed class UserRevocations(IRevokedUserStore store, TokenExchange exchange, UserAccounts accounts, IDatabaseChanges changes, ILogger<UserRevocations> logger, Gateway.Web.Mcp.InFlightCalls? inFlight = null)
    : SnapshotReloader(changes, logger)
{
    private volatile FrozenDictionary<string, RevokedUser> _revoked = FrozenDictionary<string, RevokedUser>.Empty;

    /// <summary>Gets a value indicating whether any user is revoked (the common case, none, costs one read).</summary>
    public bool Any => _revoked.Count > 0;

    public bool IsRevoked(string user) => _revoked.ContainsKey(user);

    /// <summary>The user's revocation, or <see langword="null"/> when they may call.</summary>
    public RevokedUser? Find(string user) => _revoked.GetValueOrDefault(user);

    protected override async Task ReloadCoreAsync(CancellationToken cancellationToken)
    {
        var current = (await store.ListAsync(cancellationToken)).ToFrozenDictionary(r => r.User, StringComparer.Ordinal);
        var previous = _revoked;
        _revoked = current;
        foreach (var user in current.Keys)
        {
            if (!previous.ContainsKey(user))
            {
                Forget(user);
            }
        }
    }

    /// <summary>
    /// Raised on this instance when a user is revoked here or newly seen revoked, after their tokens and calls went: what
    /// else they hold open here (sessions, listen streams) ends with it.
    /// </summary>
    public event Action<string>? Revoked;

    /// <summary>Drops the user's exchanged and refreshed upstream tokens held by this instance, and ends their calls in flight here.</summary>
    public void Forget(string user)
    {
        exchange.ForgetUser(user);
        accounts.ForgetUser(user);
        inFlight?.CancelWhere(c => string.Equals(c.User, user, StringComparison.Ordinal));
        Revoked?.Invoke(user);
    }
}
