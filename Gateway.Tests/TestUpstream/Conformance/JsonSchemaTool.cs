using System.Text.Json;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// json_schema_2020_12_tool (scenario json-schema-2020-12): its input schema must keep $schema, $defs and
/// additionalProperties (SEP-1613) and, from 2026-07-28, $anchor, allOf/anyOf and if/then/else (SEP-2106) verbatim,
/// which a schema inferred from parameters cannot express, so it is set by hand.
/// </summary>
public static class JsonSchemaTool
{
    private const string InputSchema = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "$defs": {
            "address": {
              "$anchor": "addressDef",
              "type": "object",
              "properties": {
                "street": { "type": "string" },
                "city": { "type": "string" }
              }
            }
          },
          "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" }
          },
          "allOf": [
            { "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }
          ],
          "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
          "then": { "required": ["phone"] },
          "else": { "required": ["email"] },
          "additionalProperties": false
        }
        """;

    public static McpServerTool Create()
    {
        var tool = McpServerTool.Create(
            (string? name = null, string? contactMethod = null, string? phone = null, string? email = null) =>
                $"JSON Schema 2020-12 tool called (name={name}, contactMethod={contactMethod}, phone={phone}, email={email})",
            new McpServerToolCreateOptions
            {
                Name = "json_schema_2020_12_tool",
                Description = "Tool with JSON Schema 2020-12 features",
            });
        tool.ProtocolTool.InputSchema = JsonDocument.Parse(InputSchema).RootElement.Clone();
        return tool;
    }
}
