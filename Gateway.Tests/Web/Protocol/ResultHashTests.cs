using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Web.Protocol;

public sealed class ResultHashTests
{
    // The hash is the SHA-256 of the result's canonical JSON, computed here the long way round (bytes, a document, the
    // canonical text), for a result whose text crosses every pooled buffer, with escapes and characters beyond ASCII, and
    // with nested structured content; the result and its JSON (a task's stored result) hash alike.
    [Fact]
    public void TheHash_IsThatOfTheResultsCanonicalJson_ForTheResultAndItsJson()
    {
        var text = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i}: \"é\" \t € 😀\n"));
        JsonNode nested = new JsonObject { ["leaf"] = 1.5 };
        for (var i = 0; i < 25; i++)
        {
            nested = new JsonObject { ["z"] = i, ["a"] = new JsonArray(nested, "x") };
        }

        var result = new CallToolResult
        {
            Content = [new TextContentBlock { Text = text }, new TextContentBlock { Text = "second" }],
            StructuredContent = JsonSerializer.SerializeToElement(nested),
            Meta = new JsonObject { ["k"] = "v" },
        };

        var bytes = JsonSerializer.SerializeToUtf8Bytes(result, McpJsonUtilities.DefaultOptions);
        using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson.Serialize(document.RootElement))));

        Assert.True(bytes.Length > 1_000_000, $"the result's JSON is {bytes.Length} bytes");
        Assert.Equal(expected, ResultHash.Sha256(result));
        Assert.Equal(expected, ResultHash.Sha256(JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions)!.AsObject()));
    }

    [Fact]
    public void AResultWithANumberBeyondADouble_HasNoHash()
    {
        var json = JsonNode.Parse("""{"content":[],"structuredContent":{"n":1e400}}""")!.AsObject();

        Assert.Null(ResultHash.Sha256(json));
    }
}
