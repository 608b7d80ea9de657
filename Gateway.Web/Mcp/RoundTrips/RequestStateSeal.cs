using System.Buffers.Text;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Web.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using ModelContextProtocol;

namespace Gateway.Web.Mcp.RoundTrips;

/// <summary>
/// Seals and opens the <c>requestState</c> of multi round-trip requests. The upstream's state is opaque to the gateway,
/// but an agent must not be able to alter it, replay it, or use another agent's (or another call's): the agent gets
/// the upstream's state wrapped with its binding, encrypted and authenticated with the gateway's data-protection key
/// ring (shared by every instance of a cluster, so a retry may reach any of them), and each sealed state opens once,
/// on whichever instance: its nonce is taken in the shared database (one write per retry, never per ordinary call).
/// </summary>
internal sealed partial class RequestStateSeal(
    IDataProtectionProvider provider,
    ISingleUseLedger ledger,
    GatewayInstance instance,
    IOptionsMonitor<GatewayOptions> options,
    TimeProvider time,
    ILogger<RequestStateSeal> logger)
{
    /// <summary>The one message for every state that does not open: it does not say which check failed.</summary>
    public const string Invalid = "The requestState is not valid: altered, expired, already used, or issued for another agent or request.";

    private const string Prefix = "gw1.";

    // The ledger's key of a state's nonce (the ledger also holds other single-use marks).
    private const string LedgerPrefix = "requestState:";

    private readonly IDataProtector _protector = provider.CreateProtector("Gateway.Mcp.RequestState.v1");

    /// <summary>Gets how long an agent has to answer.</summary>
    public TimeSpan Lifetime => options.CurrentValue.Mcp.InputRequiredLifetime;

    /// <summary>Gets the largest upstream state the gateway relays.</summary>
    public int MaxUpstreamStateBytes => options.CurrentValue.Mcp.MaxRequestStateBytes;

    /// <summary>Seals a round for the agent; the round's expiry and nonce (and the instance a parked call waits on, which a retry reaching another instance is relayed to) are set here.</summary>
    public string Seal(SealedRound round)
    {
        var sealedRound = round with
        {
            Expires = time.GetUtcNow() + Lifetime,
            Nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            ParkedOn = round.Parked is null ? null : instance.Id,
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(sealedRound);
        return Prefix + Base64Url.EncodeToString(_protector.Protect(bytes));
    }

    /// <summary>
    /// Opens a state an agent sent back, for that agent and the request it retries; null when it does not open (the
    /// caller answers <see cref="Invalid"/>).
    /// </summary>
    public async ValueTask<SealedRound?> OpenAsync(string state, Gateway.Core.Agents.AgentIdentity agent, string method, string name, IEnumerable<KeyValuePair<string, JsonElement>>? arguments, CancellationToken cancellationToken)
    {
        SealedRound? round;
        try
        {
            if (!state.StartsWith(Prefix, StringComparison.Ordinal) || state.Length > 4 * MaxUpstreamStateBytes)
            {
                return Refuse("not a gateway state");
            }

            round = JsonSerializer.Deserialize<SealedRound>(_protector.Unprotect(Base64Url.DecodeFromChars(state.AsSpan(Prefix.Length))));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException)
        {
            return Refuse("it does not decrypt");
        }

        var now = time.GetUtcNow();
        if (round is null || round.Expires <= now)
        {
            return Refuse("expired");
        }

        if (round.Agent != agent.Id || !string.Equals(round.User, agent.User, StringComparison.Ordinal) || round.Method != method || round.Name != name
            || (round.ArgumentsSha256 is not null && (!CanonicalJson.TrySha256(arguments, out var hash) || hash != round.ArgumentsSha256)))
        {
            return Refuse("issued for another agent or request");
        }

        // Taken last: a refused opening (another agent's, another request's) does not use the state up. The nonce is
        // remembered until the state expires, after which it is refused as expired anyway.
        bool first;
        try
        {
            first = await ledger.TryTakeAsync(LedgerPrefix + round.Nonce, round.Expires, cancellationToken);
        }
        catch (DbException ex)
        {
            LogLedgerFailed(ex);
            throw new McpProtocolException("The gateway could not check that the requestState is used once (its database did not answer); retry later.", McpErrorCode.InternalError);
        }

        return first ? round : Refuse("already used");
    }

    private SealedRound? Refuse(string why)
    {
        LogRefused(why);
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a requestState: {Reason}.")]
    private partial void LogRefused(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The single-use check of a requestState failed.")]
    private partial void LogLedgerFailed(Exception exception);
}
