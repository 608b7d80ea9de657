using System.Text.Json;
using Gateway.Core.Audit;
using ModelContextProtocol;

namespace Gateway.Web.Protocol;

/// <summary>
/// The SHA-256 the audit keeps of a tool result: of its canonical JSON, not the result itself, so what an agent got can
/// be proven later (given the result) without the trail holding it. One definition for every path that records a result
/// (a call, a task's end, a console trial), so the same result always has the same hash.
/// </summary>
internal static class ResultHash
{
    /// <summary>The hash of <paramref name="result"/> (a <c>CallToolResult</c> or its JSON), or null when it has no canonical form (a number beyond a double).</summary>
    /// <remarks>
    /// The result is serialized into a pooled buffer and read in place (SerializeToElement kept its own copy of the whole
    /// JSON), and the canonical form is hashed as it is written: a large result is not copied for its hash.
    /// </remarks>
    public static string? Sha256<T>(T result)
    {
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, result, McpJsonUtilities.DefaultOptions);
        }

        // Read as deep as the serializer was allowed to write.
        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = McpJsonUtilities.DefaultOptions.MaxDepth });
        return CanonicalJson.TrySha256(document.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, JsonElement>(p.Name, p.Value)), out var hash) ? hash : null;
    }
}
