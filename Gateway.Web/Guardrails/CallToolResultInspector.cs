using System.Text.Json;
using Gateway.Core.Guardrails;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Guardrails;

/// <summary>
/// Walks a <c>tools/call</c> result's text through the server's guard and writes back what it returns: text blocks,
/// embedded text resources and every string of the structured content. Images, audio and blobs are not text.
/// </summary>
internal sealed class CallToolResultInspector : IResultInspector<CallToolResult>
{
    public static CallToolResultInspector Instance { get; } = new();

    // Built once: a clean result allocates no location strings.
    private static readonly string[] TextLocations = [.. Enumerable.Range(0, 16).Select(i => $"content[{i}].text")];
    private static readonly string[] ResourceLocations = [.. Enumerable.Range(0, 16).Select(i => $"content[{i}].resource.text")];

    public void Inspect(CallToolResult result, ServerResultGuard guard, ResultScan scan)
    {
        var content = result.Content;
        for (var i = 0; i < content.Count; i++)
        {
            switch (content[i])
            {
                case TextContentBlock text:
                    text.Text = guard.Inspect(text.Text, i < TextLocations.Length ? TextLocations[i] : $"content[{i}].text", scan);
                    break;
                case EmbeddedResourceBlock { Resource: TextResourceContents resource }:
                    resource.Text = guard.Inspect(resource.Text, i < ResourceLocations.Length ? ResourceLocations[i] : $"content[{i}].resource.text", scan);
                    break;
            }
        }

        if (result.StructuredContent is { } structured && JsonTextGuard.Rewrite(structured, "structuredContent", guard, scan) is { } rewritten)
        {
            result.StructuredContent = JsonSerializer.SerializeToElement(rewritten);
        }
    }

    public void InspectQuestions(object inputRequired, ServerResultGuard guard, ResultScan scan)
    {
        if (inputRequired is InputRequiredResult result)
        {
            ExchangeInspector.Inspect(result, guard, scan);
        }
    }
}
