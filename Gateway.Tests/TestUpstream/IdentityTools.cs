using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>Tells who the upstream takes the caller for: proves which credential a gateway sent on a call.</summary>
[McpServerToolType]
public sealed class IdentityTools
{
    [McpServerTool(Name = "whoami"), Description("Returns the subject of the token this request carried.")]
    public static string Whoami()
    {
        var subject = HeaderGate.CurrentSubject ?? "anonymous";
        CallLog.Record("whoami", subject);
        return subject;
    }
}
