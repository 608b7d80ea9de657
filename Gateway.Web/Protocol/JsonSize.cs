using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Web.Protocol;

/// <summary>
/// About how many bytes a JSON node's text has, without writing it: what a bounded queue charges for what it holds.
/// Strings and numbers read from the wire count their raw bytes, strings made in memory their characters; the
/// punctuation is estimated. Never less than the node's largest string, so a large message is never counted small.
/// </summary>
internal static class JsonSize
{
    public static long Of(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return 4;
            case JsonObject obj:
                long objectBytes = 2;
                foreach (var (name, member) in obj)
                {
                    objectBytes += name.Length + 4 + Of(member);
                }

                return objectBytes;
            case JsonArray array:
                long arrayBytes = 2;
                foreach (var item in array)
                {
                    arrayBytes += 1 + Of(item);
                }

                return arrayBytes;
            default:
                var value = node.AsValue();

                // A value parsed from the upstream's message keeps its element: its raw bytes, without making a string.
                if (value.TryGetValue<JsonElement>(out var element))
                {
                    return JsonMarshal.GetRawUtf8Value(element).Length;
                }

                return value.TryGetValue<string>(out var text) ? text.Length + 2 : 8;
        }
    }
}
