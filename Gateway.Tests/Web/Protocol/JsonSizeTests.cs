using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Web.Protocol;

public sealed class JsonSizeTests
{
    [Fact]
    public void AParsedMessage_CountsAboutItsJsonText_ItsLargeStringsInFull()
    {
        // A log notification as an upstream sends it, read as the SDK reads it: a 3 MB string deep in its data.
        var text = new string('a', 3_000_000);
        const string Head = """{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"x","data":{"items":[1,2.5,true,null,""";
        var wire = Head + "\"" + text + "\"]}}}";
        var notification = Assert.IsType<JsonRpcNotification>(JsonSerializer.Deserialize<JsonRpcMessage>(wire, ModelContextProtocol.McpJsonUtilities.DefaultOptions));
        var written = notification.Params!.ToJsonString().Length;

        var size = JsonSize.Of(notification.Params);

        Assert.InRange(size, text.Length, written + 64);
    }

    [Fact]
    public void ANodeMadeInMemory_CountsItsStrings()
    {
        var node = new JsonObject { ["uri"] = new string('u', 70_000), ["n"] = 5, ["list"] = new JsonArray("a", null, new JsonObject()) };

        Assert.InRange(JsonSize.Of(node), 70_000, node.ToJsonString().Length + 64);
        Assert.Equal(4, JsonSize.Of(null));
    }
}
