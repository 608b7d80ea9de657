using System.Text.Json;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// json_schema_2020_12_tool (pending scenario json-schema-2020-12): its input schema must keep $schema, $defs and
/// additionalProperties verbatim, which a schema inferred from parameters cannot express, so it is set by hand.
/// </summary>
public static class JsonSchemaTool
{
    private const string InputSchema = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "$defs": {
            "address": {
              "type": "object",
              "properties": {
                "street": { "type": "string" },
                "city": { "type": "string" }
              }
            }
          },
          "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" }
          },
          "additionalProperties": false
        }
        """;

    public static McpServerTool Create()
    {
        var tool = McpServerTool.Create(
            (string? name = null) => $"JSON Schema 2020-12 tool called (name={name})",
            new McpServerToolCreateOptions
            {
                Name = "json_schema_2020_12_tool",
                Description = "Tool with JSON Schema 2020-12 features",
            });
        tool.ProtocolTool.InputSchema = JsonDocument.Parse(InputSchema).RootElement.Clone();
        return tool;
    }
}
