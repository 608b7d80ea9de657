using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Web.Credentials.OAuth;
using Gateway.Web.Identity;
using Gateway.Web.Upstreams;
using Gateway.Web.Validation;
using ModelContextProtocol.Client;

namespace Gateway.Web.Admin.Servers;

/// <summary>
/// The one write path for upstream servers, behind the admin API, the console form and the console's import: role
/// check, validation, the managed-by-configuration rule, then the registry (store first, then this instance's pool),
/// audited under the caller.
/// </summary>
/// <remarks>
/// <c>shapeErrors</c> are the problems found turning the caller's input into a definition (an unknown transport in
/// JSON, say); they are reported together with the validator's, so one answer lists everything.
/// </remarks>
internal sealed class ServerOperations(IServerStore store, ServerRegistry registry, UpstreamClientFactory factory, AuthorizationCodeFlow authorization, IAdminActor actor)
{
    /// <summary>Every problem of a definition, by field; empty when valid.</summary>
    public static Dictionary<string, string[]> Validate(ServerDefinition definition, IReadOnlyDictionary<string, string[]>? shapeErrors = null)
    {
        var errors = shapeErrors?.ToDictionary() ?? [];
        foreach (var (field, messages) in new ServerDefinitionValidator().Validate(definition).ByField())
        {
            errors[field] = [.. errors.GetValueOrDefault(field, []), .. messages];
        }

        return errors;
    }

    /// <summary>Every registered server as stored (configured ones marked as managed by configuration).</summary>
    public async Task<AdminResult<IReadOnlyList<StoredServer>>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        return refusal ?? AdminResult.Done(await store.ListAsync(cancellationToken));
    }

    /// <summary>One server as stored.</summary>
    public async Task<AdminResult<StoredServer>> GetAsync(string name, CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        return refusal ?? (await store.FindAsync(name, cancellationToken) is { } stored ? AdminResult.Done(stored) : NotFound(name));
    }

    /// <summary>Connects once, lists the tools and disconnects: nothing is saved. Admins only (it may start a process).</summary>
    public async Task<AdminResult<ConnectionTest>> TestAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        if (Validate(definition) is { Count: > 0 } errors)
        {
            return Invalid(errors);
        }

        try
        {
            await using var client = await factory.ConnectAsync(definition, new McpClientHandlers(), _ => { }, null, cancellationToken);
            var tools = client.ServerCapabilities.Tools is null ? 0 : (await client.ListToolsAsync(cancellationToken: cancellationToken)).Count;
            return AdminResult.Done(new ConnectionTest(true, $"Connected to {client.ServerInfo?.Name ?? definition.Name} (protocol {client.NegotiatedProtocolVersion}): {tools} tools."));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return AdminResult.Done(new ConnectionTest(false, "Could not connect: " + ex.Message));
        }
    }

    /// <summary>Registers a server and connects it.</summary>
    public async Task<AdminResult<StoredServer>> CreateAsync(ServerDefinition definition, CancellationToken cancellationToken, IReadOnlyDictionary<string, string[]>? shapeErrors = null)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        if (Validate(definition, shapeErrors) is { Count: > 0 } errors)
        {
            return Invalid(errors);
        }

        using var audit = caller.Audit();
        return await registry.AddAsync(definition, cancellationToken) is { } stored
            ? AdminResult.Done(stored)
            : AdminResult.Conflict($"A server named '{definition.Name}' already exists.");
    }

    /// <summary>
    /// Replaces a server's definition and reconnects it. Masked secret values (as reads show them) keep what is
    /// stored; without a credential the stored one stays (not re-encrypted, not marked rotated).
    /// </summary>
    public async Task<AdminResult<StoredServer>> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken, IReadOnlyDictionary<string, string[]>? shapeErrors = null)
    {
        var (caller, existing, refusal) = await EditableAsync(definition.Name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        definition = SecretNames.KeepStored(definition, existing!.Definition);

        // The stored credential must still fit the (possibly new) transport.
        if (Validate(definition with { Credential = definition.Credential ?? existing.Definition.Credential }, shapeErrors) is { Count: > 0 } errors)
        {
            return Invalid(errors);
        }

        using var audit = caller.Audit();
        var (result, stored) = await registry.UpdateAsync(definition, cancellationToken);
        return Changed(definition.Name, result, stored);
    }

    /// <summary>Enables or disables a server, leaving the rest of its definition (and its credential) as stored.</summary>
    public async Task<AdminResult<StoredServer>> SetEnabledAsync(string name, bool enabled, CancellationToken cancellationToken)
    {
        var (caller, existing, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        var (result, stored) = await registry.UpdateAsync(existing!.Definition with { Enabled = enabled, Credential = null }, cancellationToken);
        return Changed(name, result, stored);
    }

    /// <summary>Sets, rotates or (with <see langword="null"/>) removes a server's credential; the server reconnects with it.</summary>
    public async Task<AdminResult<StoredServer>> SetCredentialAsync(string name, UpstreamCredential? credential, CancellationToken cancellationToken, IReadOnlyDictionary<string, string[]>? shapeErrors = null)
    {
        var (caller, existing, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (Validate(existing!.Definition with { Credential = credential }, shapeErrors) is { Count: > 0 } errors)
        {
            return Invalid(errors);
        }

        using var audit = caller.Audit();
        return await registry.SetCredentialAsync(name, credential, cancellationToken) is { } stored ? AdminResult.Done(stored) : NotFound(name);
    }

    /// <summary>Unregisters and disconnects a server.</summary>
    public async Task<AdminResult> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        return await registry.RemoveAsync(name, cancellationToken) switch
        {
            ServerChange.Done => AdminResult.Done(),
            ServerChange.ManagedByConfiguration => Managed(name),
            _ => NotFound(name),
        };
    }

    /// <summary>
    /// Starts the authorization code flow (PKCE) at the server's authorization server: yields where the admin signs in.
    /// Nothing is stored until the callback, which stores the refresh token as the credential. An unreachable or
    /// unsuitable authorization server throws <see cref="OAuthException"/>, which the caller reports as the upstream's.
    /// </summary>
    public async Task<AdminResult<(Uri Url, DateTimeOffset ExpiresAt)>> StartAuthorizationAsync(string name, AuthorizationStart start, string redirectUri, CancellationToken cancellationToken)
    {
        var (caller, existing, refusal) = await EditableAsync(name, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(start.ClientId))
        {
            errors["clientId"] = ["The client id is required to sign in at the authorization server."];
        }

        if (existing!.Definition.Transport == ServerTransport.Stdio)
        {
            errors["transport"] = ["OAuth authorization needs an http or sse server."];
        }

        return errors.Count > 0
            ? AdminResult.Invalid(errors, "The authorization cannot start.")
            : AdminResult.Done(await authorization.StartAsync(existing.Definition, start with { ClientId = start.ClientId!.Trim() }, redirectUri, caller.User.GetUserId(), cancellationToken));
    }

    private static AdminResult<StoredServer> Changed(string name, ServerChange result, StoredServer? stored) => result switch
    {
        ServerChange.Done when stored is not null => AdminResult.Done(stored),
        ServerChange.ManagedByConfiguration => Managed(name),
        _ => NotFound(name),
    };

    /// <summary>The stored server to change, or what stops the change: the role, an unknown server, configuration owning it.</summary>
    private async Task<(AdminCaller Caller, StoredServer? Existing, AdminResult? Refusal)> EditableAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return (caller, null, refusal);
        }

        var existing = await store.FindAsync(name, cancellationToken);
        return existing is null ? (caller, null, NotFound(name))
            : existing.Definition.ManagedByConfiguration ? (caller, null, Managed(name))
            : (caller, existing, null);
    }

    private static AdminResult Invalid(Dictionary<string, string[]> errors) => AdminResult.Invalid(errors, "The server definition is invalid.");

    private static AdminResult NotFound(string name) => AdminResult.NotFound($"No server named '{name}'.");

    private static AdminResult Managed(string name) => AdminResult.Managed($"Server '{name}' is managed by configuration; change it in the configuration file.");
}
