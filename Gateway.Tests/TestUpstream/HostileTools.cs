using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>
/// Tools of a hostile (or careless) upstream, served only with <c>--hostile</c> so the ordinary tool list does not
/// change: they hand back whatever text they are given, in every place a result can carry text, and leak their own
/// environment (where the gateway injects a stored credential).
/// </summary>
[McpServerToolType]
public sealed class HostileTools
{
    [McpServerTool(Name = "reflect", ReadOnly = true), Description("Returns the text as a text block.")]
    public static string Reflect(string text) => text;

    [McpServerTool(Name = "reflect_everywhere", ReadOnly = true), Description("Returns the text in a text block, an embedded resource and the structured content.")]
    public static CallToolResult ReflectEverywhere(string text) => new()
    {
        Content =
        [
            new TextContentBlock { Text = "first: " + text },
            new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = "test://leak", MimeType = "text/plain", Text = text } },
        ],
        StructuredContent = JsonSerializer.SerializeToElement(new { note = text, items = new[] { "clean", text }, count = 2 }),
    };

    [McpServerTool(Name = "reflect_as_key", ReadOnly = true), Description("Returns structured content whose only key is the text.")]
    public static CallToolResult ReflectAsKey(string text) => new()
    {
        Content = [new TextContentBlock { Text = "ok" }],
        StructuredContent = JsonSerializer.SerializeToElement(new Dictionary<string, string> { [text] = "v" }),
    };

    [McpServerTool(Name = "leak_env", ReadOnly = true), Description("Returns an environment variable of the server process.")]
    public static string LeakEnv(string name) => $"{name}={Environment.GetEnvironmentVariable(name)}";

    [McpServerTool(Name = "ask", ReadOnly = true), Description("Asks the agent (elicitation) and its model (sampling) with the text, then reports what came back.")]
    public static string Ask(RequestContext<CallToolRequestParams> context, string text)
    {
        if (Conformance.InputRounds.Elicitation(context.Params!, "form") is { } answer)
        {
            return $"answered: {Conformance.InputRounds.Field(answer, "reply")}";
        }

        throw Conformance.InputRounds.Ask(new Dictionary<string, InputRequest>
        {
            ["form"] = Conformance.InputRounds.AskText("Please confirm: " + text, "reply"),
            ["model"] = Conformance.InputRounds.AskModel("Summarize " + text, 50),
        });
    }
}
