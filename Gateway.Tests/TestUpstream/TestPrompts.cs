using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

[McpServerPromptType]
public sealed class TestPrompts
{
    [McpServerPrompt(Name = "greet"), Description("Greets someone.")]
    public static string Greet(string name) => $"Hello, {name}!";
}

[McpServerResourceType]
public sealed class TestResources
{
    [McpServerResource(UriTemplate = "test://static", Name = "static", MimeType = "text/plain"), Description("A fixed text.")]
    public static string Static() => "static content of " + Program.ServerName;

    [McpServerResource(UriTemplate = "test://items/{id}", Name = "item", MimeType = "text/plain"), Description("An item by id.")]
    public static string Item(string id) => $"item {id} of {Program.ServerName}";
}
