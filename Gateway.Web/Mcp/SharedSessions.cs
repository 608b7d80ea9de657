using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Sessions;
using Gateway.Web.Authentication;
using Gateway.Web.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp;

/// <summary>
/// Lets any instance continue a 2025-11-25 session another instance began (behind a load balancer without
/// stickiness, or after a restart): the SDK asks here when a request names a session it does not hold, and the
/// session is taken over with the client's original initialize parameters when the same agent, with the same key,
/// asks within <see cref="McpEndpointOptions.SharedSessionLifetime"/>. Anything else gets the specification's 404,
/// after which a client starts a new session.
/// </summary>
/// <remarks>
/// What moves is the handshake, not the session's live state: a subscription or log level set on the old instance is
/// set again by the client if it needs it. A server-to-client request in flight (an elicitation) stays with the
/// instance that sent it; the agent's answer is relayed there from whichever instance it reaches (<see cref="Relay.AgentQuestions"/>).
/// Every instance holding a copy is recorded with the session, so the client's DELETE ends it on all of them.
/// </remarks>
internal sealed partial class SharedSessions(
    IMcpSessionStore store, Relay.SessionEndings endings, Gateway.Core.Audit.GatewayInstance instance, IOptions<GatewayOptions> options, TimeProvider time, ILogger<SharedSessions> logger)
    : ISessionMigrationHandler
{
    /// <summary>Larger initialize parameters are not shared (the session stays where it began); ordinary ones are a few hundred bytes.</summary>
    internal const int MaxInitializeBytes = 65_536;

    /// <summary>A session id longer than any the SDK issues is not looked up.</summary>
    private const int MaxSessionIdLength = 128;

    // The sessions this instance runs that are in the shared table (stored here, or taken over), with when their row was
    // made: only these can be ended by a DELETE on another instance, and only these are checked when the session cap is
    // reached.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _shared = new(StringComparer.Ordinal);

    /// <summary>Whether a session this instance runs is in the shared table.</summary>
    public bool IsShared(string sessionId) => _shared.ContainsKey(sessionId);

    /// <summary>Stops tracking a session that ended here.</summary>
    public void Untrack(string sessionId) => _shared.TryRemove(sessionId, out _);

    /// <summary>
    /// Which of these shared sessions were ended by their client on any instance: their row is gone while it should
    /// still be there. A row older than <see cref="McpEndpointOptions.SharedSessionLifetime"/> goes with a later new
    /// session whoever's it is (expired rows are swept at most once a minute), so a live session that old is never
    /// taken for ended (its calls would be cancelled and its state dropped under a client still using it): it counts
    /// until it ends here.
    /// </summary>
    public async Task<IReadOnlyList<string>> EndedElsewhereAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken)
    {
        var kept = time.GetUtcNow() - options.Value.Mcp.SharedSessionLifetime;
        var young = sessionIds.Where(id => _shared.TryGetValue(id, out var created) && created > kept).ToList();
        if (young.Count == 0)
        {
            return [];
        }

        var existing = await store.ExistingAsync(young, cancellationToken);
        return [.. young.Where(id => !existing.Contains(id))];
    }

    public async ValueTask OnSessionInitializedAsync(HttpContext context, string sessionId, InitializeRequestParams initializeParams, CancellationToken cancellationToken)
    {
        AgentClaimsIdentity? identity;
        try
        {
            identity = context.User.GetAgentIdentity();
        }
        catch (ObjectDisposedException)
        {
            // A repeated initialize on a live session reaches here with the first request's (finished) context; the
            // session was stored by the first one.
            return;
        }

        if (identity is null || sessionId.Length > MaxSessionIdLength)
        {
            return;
        }

        var json = JsonSerializer.Serialize(initializeParams, McpJsonUtilities.DefaultOptions);
        if (Encoding.UTF8.GetByteCount(json) > MaxInitializeBytes)
        {
            LogNotShared(identity.Agent.Name, "its initialize parameters are larger than 64 KiB");
            return;
        }

        var now = time.GetUtcNow();
        try
        {
            await store.SaveAsync(new McpSessionRecord(sessionId, identity.Agent.Id, identity.KeyHash, json, now, instance.Id, VirtualServers.VirtualServerPath.NameOf(context.Request.Path)), now - options.Value.Mcp.SharedSessionLifetime, cancellationToken);
            _shared[sessionId] = now;
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException)
        {
            // The session works here all the same; only a move to another instance would end it with a 404.
            LogNotShared(identity.Agent.Name, ex.Message);
        }
    }

    public async ValueTask<InitializeRequestParams?> AllowSessionMigrationAsync(HttpContext context, string sessionId, CancellationToken cancellationToken)
    {
        if (context.User.GetAgentIdentity() is not { } identity || await FindMovableAsync(context, sessionId, cancellationToken) is not { } record)
        {
            return null;
        }

        LogTakenOver(identity.Agent.Name);
        _shared[sessionId] = record.CreatedAt;
        if (!record.Holders.Split(',').Contains(instance.Id))
        {
            // So that the client's DELETE, wherever it lands, ends the copy held here too.
            await store.AddHolderAsync(sessionId, instance.Id, cancellationToken);
        }

        return JsonSerializer.Deserialize<InitializeRequestParams>(record.InitializeJson, McpJsonUtilities.DefaultOptions);
    }

    /// <summary>
    /// The stored session this request may take over here: its own agent's and key's, not expired, on the endpoint it was
    /// opened on; null otherwise (the specification's 404). Changes nothing; the session cap asks it before a takeover.
    /// </summary>
    public async Task<McpSessionRecord?> FindMovableAsync(HttpContext context, string sessionId, CancellationToken cancellationToken)
    {
        // Asked by the session cap and then by the SDK's migration for the same request: read once.
        if (context.Items.TryGetValue(MovableKey, out var found) && found is Movable movable && movable.SessionId == sessionId)
        {
            return movable.Record;
        }

        var record = await FindMovableCoreAsync(context, sessionId, cancellationToken);
        context.Items[MovableKey] = new Movable(sessionId, record);
        return record;
    }

    private static readonly object MovableKey = new();

    private sealed record Movable(string SessionId, McpSessionRecord? Record);

    private async Task<McpSessionRecord?> FindMovableCoreAsync(HttpContext context, string sessionId, CancellationToken cancellationToken)
    {
        if (context.User.GetAgentIdentity() is not { } identity || sessionId.Length > MaxSessionIdLength)
        {
            return null;
        }

        var record = await store.FindAsync(sessionId, time.GetUtcNow() - options.Value.Mcp.SharedSessionLifetime, cancellationToken);
        if (record is null
            || record.AgentId != identity.Agent.Id
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(record.KeyHash), Encoding.ASCII.GetBytes(identity.KeyHash)))
        {
            // Unknown, expired, or another agent's (or key's) session: taking it over would be impersonation.
            return null;
        }

        if (record.VirtualServer != VirtualServers.VirtualServerPath.NameOf(context.Request.Path))
        {
            // A session belongs to the endpoint it was opened on: elsewhere it is not found (the specification's 404).
            LogOtherEndpoint(identity.Agent.Name, record.VirtualServer is { } name ? "/mcp/" + name : "/mcp");
            return null;
        }

        return record;
    }

    /// <summary>
    /// The client's DELETE: the other instances holding a copy of the session end theirs first (so its next request gets
    /// the specification's 404 wherever it lands), then the SDK ends it here, then the session is forgotten, so no
    /// instance takes it over afterwards.
    /// </summary>
    public async Task ForgetEndedAsync(HttpContext context, RequestDelegate next)
    {
        if (!HttpMethods.IsDelete(context.Request.Method)
            || context.Request.Headers["Mcp-Session-Id"].ToString() is not { Length: > 0 and <= MaxSessionIdLength } sessionId
            || context.User.GetAgentIdentity() is not { } identity)
        {
            await next(context);
            return;
        }

        try
        {
            // Only its own agent, with its own key, ends a session (anyone else gets the SDK's 404 or 403 below).
            if (await store.FindAsync(sessionId, time.GetUtcNow() - options.Value.Mcp.SharedSessionLifetime, context.RequestAborted) is { } record
                && record.AgentId == identity.Agent.Id
                && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(record.KeyHash), Encoding.ASCII.GetBytes(identity.KeyHash)))
            {
                await endings.EndEverywhereAsync(sessionId, record.Holders, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is DbException or OperationCanceledException)
        {
            LogNotForgotten(ex.Message);
        }

        await next(context);
        if (context.Response.StatusCode is >= 200 and < 300)
        {
            try
            {
                await store.DeleteAsync(sessionId, context.RequestAborted);
            }
            catch (Exception ex) when (ex is DbException or DbUpdateException or OperationCanceledException)
            {
                // Left to expire with the lifetime; only the same agent and key could take it over meanwhile.
                LogNotForgotten(ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An ended session could not be removed from the shared sessions ({Reason}); it expires with its lifetime.")]
    private partial void LogNotForgotten(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A session of agent {Agent} is not shared with other instances ({Reason}); it ends if its requests reach another instance.")]
    private partial void LogNotShared(string agent, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "A session of agent {Agent} opened on {Endpoint} was used on another endpoint; refused as not found.")]
    private partial void LogOtherEndpoint(string agent, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Continuing a session of agent {Agent} that began on another instance (or before a restart).")]
    private partial void LogTakenOver(string agent);
}
