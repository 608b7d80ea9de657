using System.Globalization;
using System.Text.Json;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The authorization server's clients, kept by OpenIddict's application store in the gateway's database: clients known
/// by their metadata document (created or brought up to date each time it is fetched) and clients that
/// registered themselves. Each is a public client limited to the code flow with PKCE and refresh tokens.
/// </summary>
internal sealed class OAuthClients(IOpenIddictApplicationManager applications, OAuthConsents consents, TimeProvider time)
{
    /// <summary>The property naming where a client came from: <see cref="MetadataDocument"/> or <see cref="Registered"/>.</summary>
    public const string SourceProperty = "mcpgw_source";

    /// <summary>The property holding when the client was last seen (its document fetched, or its registration).</summary>
    public const string SeenProperty = "mcpgw_seen_at";

    public const string MetadataDocument = "metadata-document";

    public const string Registered = "registered";

    /// <summary>Creates or updates the client described by a fetched metadata document (its client id is the URL).</summary>
    public async Task UpsertMetadataClientAsync(ClientMetadata metadata, CancellationToken cancellationToken)
    {
        var descriptor = Describe(metadata.ClientId!, metadata, MetadataDocument);
        if (await applications.FindByClientIdAsync(metadata.ClientId!, cancellationToken) is { } existing)
        {
            await applications.UpdateAsync(existing, descriptor, cancellationToken);
            return;
        }

        await applications.CreateAsync(descriptor, cancellationToken);
    }

    /// <summary>Whether a client of this id is known (OpenIddict keeps the clients it looked up in memory).</summary>
    public async Task<bool> ExistsAsync(string clientId, CancellationToken cancellationToken) =>
        await applications.FindByClientIdAsync(clientId, cancellationToken) is not null;

    /// <summary>Counts the clients that registered themselves (RFC 7591), for the registration bound.</summary>
    public async Task<long> CountRegisteredAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        await foreach (var application in applications.ListAsync(null, null, cancellationToken))
        {
            if (Source(await applications.GetPropertiesAsync(application, cancellationToken)) == Registered)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Registers a client (RFC 7591) under a new random client id; yields that id.</summary>
    public async Task<string> RegisterAsync(ClientMetadata metadata, CancellationToken cancellationToken)
    {
        var clientId = "mcpgw-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await applications.CreateAsync(Describe(clientId, metadata, Registered), cancellationToken);
        return clientId;
    }

    /// <summary>Every client, newest seen first (bounded by <see cref="AuthorizationServerSettings.MaxRegisteredClients"/> plus the CIMD clients of allowed hosts).</summary>
    public async Task<IReadOnlyList<OAuthClientInfo>> ListAsync(CancellationToken cancellationToken)
    {
        // Read to the end first: describing a client queries its consents, and a PostgreSQL connection runs one command at a time.
        List<object> found = [];
        await foreach (var application in applications.ListAsync(null, null, cancellationToken))
        {
            found.Add(application);
        }

        List<OAuthClientInfo> clients = [];
        foreach (var application in found)
        {
            clients.Add(await DescribeAsync(application, cancellationToken));
        }

        return [.. clients.OrderByDescending(c => c.SeenAt).ThenBy(c => c.ClientId, StringComparer.Ordinal)];
    }

    /// <summary>The client known by <paramref name="clientId"/>, or <see langword="null"/>.</summary>
    public async Task<OAuthClientInfo?> FindAsync(string clientId, CancellationToken cancellationToken) =>
        await applications.FindByClientIdAsync(clientId, cancellationToken) is { } application ? await DescribeAsync(application, cancellationToken) : null;

    private async Task<OAuthClientInfo> DescribeAsync(object application, CancellationToken cancellationToken)
    {
        var properties = await applications.GetPropertiesAsync(application, cancellationToken);
        var seen = properties.TryGetValue(SeenProperty, out var value) && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : (DateTimeOffset?)null;
        return new OAuthClientInfo(
            await applications.GetClientIdAsync(application, cancellationToken) ?? string.Empty,
            await applications.GetDisplayNameAsync(application, cancellationToken),
            Source(properties) ?? "unknown",
            [.. await applications.GetRedirectUrisAsync(application, cancellationToken)],
            seen,
            await applications.GetIdAsync(application, cancellationToken) is { } id ? await consents.CountAsync(id, cancellationToken) : 0);
    }

    private static string? Source(IReadOnlyDictionary<string, JsonElement> properties) =>
        properties.TryGetValue(SourceProperty, out var source) && source.ValueKind == JsonValueKind.String ? source.GetString() : null;

    private OpenIddictApplicationDescriptor Describe(string clientId, ClientMetadata metadata, string source)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = ClientTypes.Public,
            DisplayName = metadata.Name,
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var uri in metadata.RedirectUris)
        {
            descriptor.RedirectUris.Add(uri);
        }

        descriptor.Properties[SourceProperty] = JsonSerializer.SerializeToElement(source);
        descriptor.Properties[SeenProperty] = JsonSerializer.SerializeToElement(time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        return descriptor;
    }
}

/// <summary>A client of the gateway's authorization server, as admins see it.</summary>
/// <param name="ClientId">The client id: the metadata document's URL, or the id given at registration.</param>
/// <param name="Name">The name the client gave itself.</param>
/// <param name="Source"><see cref="OAuthClients.MetadataDocument"/> or <see cref="OAuthClients.Registered"/>.</param>
/// <param name="RedirectUris">Where it may receive codes.</param>
/// <param name="SeenAt">When its document was last fetched, or when it registered.</param>
/// <param name="Consents">How many users have allowed it (on the consent page, not withdrawn since).</param>
public sealed record OAuthClientInfo(string ClientId, string? Name, string Source, IReadOnlyList<string> RedirectUris, DateTimeOffset? SeenAt, int Consents);
