using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// An upstream's result the gateway relays as JSON (rewritten where it must be): the SDK's alternate-result seam takes
/// a <see cref="Result"/> and its type info, and has no type for the tasks extension's results.
/// </summary>
internal sealed class RelayedResult(JsonObject body) : Result
{
    public static JsonTypeInfo<RelayedResult> TypeInfo { get; } = (JsonTypeInfo<RelayedResult>)new JsonSerializerOptions
    {
        Converters = { new Writer() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    }.GetTypeInfo(typeof(RelayedResult));

    public JsonObject Body { get; } = body;

    private sealed class Writer : JsonConverter<RelayedResult>
    {
        public override RelayedResult Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("A relayed result is only written.");

        public override void Write(Utf8JsonWriter writer, RelayedResult value, JsonSerializerOptions options) => value.Body.WriteTo(writer);
    }
}
