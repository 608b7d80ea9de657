using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Protocol;

/// <summary>What an agent declared it can do for a request: per request on 2026-07-28 (its <c>_meta</c>, read by the SDK), else at initialize.</summary>
internal static class DeclaredCapabilities
{
    public static ClientCapabilities? Of(MessageContext request) =>
        request.JsonRpcMessage.Context?.ClientCapabilities ?? request.Server.ClientCapabilities;
}
