using System.ComponentModel;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>The resources of the conformance scenarios (resources-*).</summary>
[McpServerResourceType]
public sealed class ConformanceResources
{
    public const string WatchedResourceUri = "test://watched-resource";

    [McpServerResource(UriTemplate = "test://static-text", Name = "static-text", MimeType = "text/plain")]
    [Description("A static text resource.")]
    public static string StaticText() => "This is the content of the static text resource.";

    [McpServerResource(UriTemplate = "test://static-binary", Name = "static-binary", MimeType = "image/png")]
    [Description("A static binary resource (a 1x1 PNG).")]
    public static BlobResourceContents StaticBinary() =>
        BlobResourceContents.FromBytes(TestMedia.Png, "test://static-binary", "image/png");

    [McpServerResource(UriTemplate = WatchedResourceUri, Name = "watched-resource", MimeType = "text/plain")]
    [Description("A resource clients can subscribe to.")]
    public static string WatchedResource() => "This resource can be watched for updates.";

    [McpServerResource(UriTemplate = "test://template/{id}/data", Name = "template-data", MimeType = "application/json")]
    [Description("Data for an id, from a URI template.")]
    public static string TemplateData(string id) =>
        new JsonObject { ["id"] = id, ["templateTest"] = true, ["data"] = $"Data for ID: {id}" }.ToJsonString();
}
