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

    [McpServerTool(Name = "request_header"), Description("Returns a header of the request that carried this call, or (none).")]
    public static string RequestHeader(string name) => HeaderGate.CurrentHeaders?.GetValueOrDefault(name) ?? "(none)";

    [McpServerTool(Name = "echo_token"), Description("Echoes the bearer token this request carried (a leak the gateway's result guard must catch).")]
    public static string EchoToken() => "I was called with " + (HeaderGate.CurrentAuthorization ?? "no token");
}

/// <summary>The same question as a prompt: proves which credential a gateway sent on a <c>prompts/get</c>.</summary>
[McpServerPromptType]
public sealed class IdentityPrompts
{
    [McpServerPrompt(Name = "whoami_prompt"), Description("Names the subject of the token this request carried.")]
    public static string WhoamiPrompt() => "You speak for " + (HeaderGate.CurrentSubject ?? "anonymous");
}

/// <summary>The same question as a resource: proves which credential a gateway sent on a <c>resources/read</c>.</summary>
[McpServerResourceType]
public sealed class IdentityResources
{
    [McpServerResource(UriTemplate = "test://whoami", Name = "whoami", MimeType = "text/plain"), Description("The subject of the token this request carried.")]
    public static string Whoami() => HeaderGate.CurrentSubject ?? "anonymous";
}
