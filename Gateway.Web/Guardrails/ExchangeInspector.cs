using System.Text.Json;
using Gateway.Core.Guardrails;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Guardrails;

/// <summary>
/// Walks the text an upstream sends an agent outside a tool result through the server's guard, writing back what it
/// returns: a <c>resources/read</c> result's text contents, a <c>prompts/get</c> result's description and messages,
/// and the questions of an input-required result (elicitation messages and schemas, sampling messages and system
/// prompts: every string of each request's parameters). Blobs, images and audio are not text.
/// </summary>
internal static class ExchangeInspector
{
    public static void Inspect(ReadResourceResult result, ServerResultGuard guard, ResultScan scan)
    {
        for (var i = 0; i < result.Contents.Count; i++)
        {
            if (result.Contents[i] is TextResourceContents text)
            {
                text.Text = guard.Inspect(text.Text, $"contents[{i}].text", scan);
            }
        }
    }

    public static void Inspect(GetPromptResult result, ServerResultGuard guard, ResultScan scan)
    {
        if (result.Description is { } description)
        {
            result.Description = guard.Inspect(description, "description", scan);
        }

        for (var i = 0; i < result.Messages.Count; i++)
        {
            Inspect(result.Messages[i].Content, $"messages[{i}].content", guard, scan);
        }
    }

    public static void Inspect(InputRequiredResult result, ServerResultGuard guard, ResultScan scan)
    {
        if (result.InputRequests is not { } requests)
        {
            return;
        }

        // The keys are the upstream's: named by position, so a location never repeats them.
        var position = 0;
        foreach (var request in requests.Values)
        {
            if (request.Params is { } parameters && JsonTextGuard.Rewrite(parameters, $"inputRequests{{#{position}}}.params", guard, scan) is { } rewritten)
            {
                request.Params = JsonSerializer.SerializeToElement(rewritten);
            }

            position++;
        }
    }

    private static void Inspect(ContentBlock block, string location, ServerResultGuard guard, ResultScan scan)
    {
        switch (block)
        {
            case TextContentBlock text:
                text.Text = guard.Inspect(text.Text, location + ".text", scan);
                break;
            case EmbeddedResourceBlock { Resource: TextResourceContents resource }:
                resource.Text = guard.Inspect(resource.Text, location + ".resource.text", scan);
                break;
        }
    }
}
