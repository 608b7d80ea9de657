using System.Text.Json;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// test_custom_header_tool (scenario http-custom-header-server-validation, SEP-2243): its <c>region</c> argument is
/// annotated <c>x-mcp-header</c>, so a 2026-07-28 client also sends it as <c>Mcp-Param-Region</c> and the SDK's HTTP
/// transport checks the header (plain or <c>=?base64?…?=</c>) against the body before the call runs.
/// </summary>
public static class CustomHeaderTool
{
    public const string Name = "test_custom_header_tool";

    private const string InputSchema = """
        {
          "type": "object",
          "properties": {
            "region": { "type": "string", "description": "Where to run; mirrored in the Mcp-Param-Region header", "x-mcp-header": "Region" },
            "query": { "type": "string", "description": "What to run" }
          },
          "required": ["region"]
        }
        """;

    public static McpServerTool Create()
    {
        var tool = McpServerTool.Create(
            (string region, string? query = null) => $"Ran in region {region}" + (query is null ? "." : $": {query}"),
            new McpServerToolCreateOptions
            {
                Name = Name,
                Description = "Echoes its region argument, which also travels as the Mcp-Param-Region header",
            });
        tool.ProtocolTool.InputSchema = JsonDocument.Parse(InputSchema).RootElement.Clone();
        return tool;
    }
}
