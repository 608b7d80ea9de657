using System.Collections.Concurrent;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp.RoundTrips;

/// <summary>
/// The calls of this instance waiting for an agent's answer (see <see cref="ParkedCall"/>). In memory: an agent's retry
/// that reaches another instance is relayed here (<see cref="ParkedCallRelay"/>). Bounded: past the cap, a call is not
/// parked and an upstream's question fails.
/// </summary>
internal sealed class ParkedCalls(IOptionsMonitor<GatewayOptions> options)
{
    internal const int MaxParked = 1000;

    private readonly ConcurrentDictionary<string, ParkedCall> _calls = new(StringComparer.Ordinal);

    /// <summary>Gets how many calls wait.</summary>
    public int Count => _calls.Count;

    /// <summary>Parks a new call, unless too many already wait.</summary>
    public ParkedCall? TryPark()
    {
        if (_calls.Count >= MaxParked)
        {
            return null;
        }

        var call = new ParkedCall(options.CurrentValue.Mcp.InputRequiredLifetime);
        _calls[call.Id] = call;
        return call;
    }

    /// <summary>Starts a parked call; it is forgotten when done, however it ends (result, error, the agent never answering).</summary>
    public void Start(ParkedCall call, Func<CancellationToken, Task<ModelContextProtocol.Protocol.CallToolResult>> run)
    {
        call.Start(run);
        _ = call.Result.ContinueWith(
            _ =>
            {
                _calls.TryRemove(new(call.Id, call));
                call.Disarm();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Finds the call a sealed state names.</summary>
    public ParkedCall? Find(string id) => _calls.TryGetValue(id, out var call) ? call : null;
}
