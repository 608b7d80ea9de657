using System.Collections.Concurrent;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>
/// Records each <c>logging/setLevel</c> (in <see cref="CallLog"/>, with the level) and, while a test holds the server,
/// keeps its answer back: the session has the level (the SDK sets it before this handler runs), the client does not know yet.
/// </summary>
public static class SetLevelHold
{
    private static readonly ConcurrentDictionary<string, Task> Holds = new();

    /// <summary>Holds the answers of the server named <paramref name="server"/> until <paramref name="release"/> completes.</summary>
    public static void Hold(string server, Task release) => Holds[server] = release;

    internal static async ValueTask<EmptyResult> HandleAsync(RequestContext<SetLevelRequestParams> request, CancellationToken cancellationToken)
    {
        CallLog.Record("logging/setLevel", request.Params?.Level.ToString());
        if (Holds.TryGetValue(Program.ServerName, out var release))
        {
            await release.WaitAsync(cancellationToken);
        }

        return new EmptyResult();
    }
}
